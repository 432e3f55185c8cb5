//! What can go wrong building or running the image tokenizer.

use simvq_quant::QuantError;

/// Errors of the image tokenizer: invalid configs, wrong input shapes, unusable weight files.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// A config value the architecture cannot use; the message says which and why.
    #[error("invalid image tokenizer config: {0}")]
    InvalidConfig(String),
    /// Input of the wrong shape; the message names the expected layout.
    #[error("wrong input shape: {0}")]
    Shape(String),
    /// The quantizer refused its input or config.
    #[error(transparent)]
    Quant(#[from] QuantError),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, ImageError>;
