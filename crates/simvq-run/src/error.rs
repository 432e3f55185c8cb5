//! What can go wrong with a run's files.

use std::path::PathBuf;

/// Errors reading or writing a run's files; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A config file that cannot be read or does not fit the config.
    #[error("config {path}: {message}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },
    /// A checkpoint that cannot be written, found or read.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The checkpoint directory.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// Reading or writing a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl RunError {
    /// An output file that could not be written, for errors other than `std::io::Error`.
    pub fn output(path: &std::path::Path, e: impl std::fmt::Display) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        }
    }
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, RunError>;
