//! The one error type of this crate: everything a caller can get wrong, named plainly.

use thiserror::Error;

/// What can go wrong when configuring or calling a quantizer.
///
/// Shape problems are caught before any tensor op runs, so a wrong call gives this error
/// instead of a panic from deep inside the backend.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum QuantError {
    /// A configuration value is out of its valid range.
    #[error("invalid quantizer config: {0}")]
    InvalidConfig(String),
    /// The channel (code) dimension of the input is not the quantizer's.
    #[error(
        "input has {got} channels along dimension {axis} (shape {shape:?}) but the quantizer's code \
         dimension is {expected}; for feature maps pass channel-first [B, D, H, W] or [B, D, T], \
         for token lists pass [N, D]"
    )]
    DimMismatch {
        /// The quantizer's code dimension.
        expected: usize,
        /// The size found in the input.
        got: usize,
        /// Which axis of the input was read as the channel axis.
        axis: usize,
        /// The whole input shape.
        shape: Vec<usize>,
    },
    /// The input holds no tokens at all.
    #[error("input of shape {0:?} holds no tokens: every dimension must be at least 1")]
    EmptyInput(Vec<usize>),
    /// An index passed for decoding is outside `0..codebook_size`.
    #[error(
        "code index {index} is outside the codebook (valid: 0..{codebook_size}); were these tokens \
         made by a model with another codebook size?"
    )]
    IndexOutOfRange {
        /// The offending index (the smallest or largest one found).
        index: i64,
        /// The quantizer's number of codes.
        codebook_size: usize,
    },
    /// A frozen-codebook file could not be used.
    #[error("frozen codebook file {path}: {reason}")]
    CodebookFile {
        /// The file.
        path: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// Two usage accumulators of different codebook sizes were merged.
    #[error("cannot merge usage statistics of a {left}-code codebook with a {right}-code one")]
    UsageSizeMismatch {
        /// Size of the accumulator being merged into.
        left: usize,
        /// Size of the accumulator merged from.
        right: usize,
    },
}

/// Result alias for this crate.
pub type Result<T> = core::result::Result<T, QuantError>;
