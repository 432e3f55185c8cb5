//! The error type of the `simvq` library.

use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong reading, writing or running a model.
#[derive(Debug, Error)]
pub enum CliError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A model file is unreadable or does not fit.
    #[error("model file {path}: {message}")]
    ModelFile {
        /// The file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A token file is unreadable, damaged, or belongs to another model.
    #[error("token file {path}: {message}")]
    TokenFile {
        /// The file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// An input file cannot be tokenized.
    #[error("{path}: {message}")]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The image tokenizer refused its input or config.
    #[error(transparent)]
    Image(#[from] simvq_image::ImageError),
    /// The audio codec refused its input or config.
    #[error(transparent)]
    Audio(#[from] simvq_audio::AudioError),
    /// Reading an image or audio file failed.
    #[error(transparent)]
    Data(#[from] simvq_data::DataError),
    /// Reading a training run's config or checkpoint, or writing an output file, failed.
    #[error(transparent)]
    Run(#[from] simvq_run::RunError),
}

/// This crate's result type.
pub type Result<T> = std::result::Result<T, CliError>;
