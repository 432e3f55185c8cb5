//! What can go wrong reading a dataset.

use std::path::PathBuf;

/// Dataset errors; each names the path and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The dataset root does not exist or is not a directory.
    #[error("dataset folder {0} does not exist or is not a directory; pass the folder that holds the images (e.g. ImageNet's train/ or val/)")]
    MissingRoot(PathBuf),
    /// The folder holds no file with an image extension.
    #[error("no images found under {path} (looked for {extensions}, in any subfolder)")]
    NoImages {
        /// The folder searched.
        path: PathBuf,
        /// The extensions looked for.
        extensions: String,
    },
    /// A directory could not be listed.
    #[error("cannot list {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// One image could not be read or decoded.
    #[error("cannot read image {path}: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Every image of a batch was unreadable.
    #[error("every image of batch {batch} was unreadable (see the skipped files above)")]
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
