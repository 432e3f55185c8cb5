//! What can go wrong reading a dataset.

use std::path::PathBuf;

/// Dataset errors; each names the path and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The dataset root does not exist or is not a directory.
    #[error("dataset folder {0} does not exist or is not a directory; pass the folder that holds the data (e.g. ImageNet's train/ or val/, or the LibriTTS root)")]
    MissingRoot(PathBuf),
    /// The folder holds no file with a wanted extension.
    #[error("no data files found under {path} (looked for {extensions}, in any subfolder)")]
    NoFiles {
        /// The folder searched.
        path: PathBuf,
        /// The extensions looked for.
        extensions: String,
    },
    /// A manifest lists no file.
    #[error("manifest {0} lists no file; write one with `cargo xtask manifest`")]
    EmptyManifest(PathBuf),
    /// A directory could not be listed or a file not read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// One file could not be read or decoded.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Every file of a batch was unreadable.
    #[error("every file of batch {batch} was unreadable (see the skipped files above)")]
    EmptyBatch {
        /// Index of the batch in its epoch.
        batch: usize,
    },
    /// A setting the loader cannot use.
    #[error("invalid data setting: {0}")]
    InvalidSetting(String),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, DataError>;
