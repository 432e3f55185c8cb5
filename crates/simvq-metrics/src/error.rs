//! The error type of this crate.

use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong when computing a metric.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum MetricsError {
    /// Two signals compared sample by sample differ in length.
    #[error("the clean signal has {clean} samples and the processed one {processed}; compare signals of the same length (trim the reconstruction to the original)")]
    LengthMismatch {
        /// Clean samples.
        clean: usize,
        /// Processed samples.
        processed: usize,
    },
    /// A sample rate of zero.
    #[error("invalid sample rate {0} Hz")]
    SampleRate(u32),
    /// Resampling for a metric failed.
    #[error("cannot resample for the metric: {0}")]
    Resample(String),
    /// PESQ could not score the pair (too short: under 0.25 s; or no speech found).
    #[error("PESQ: {0}")]
    Pesq(String),
    /// Two inputs that must match do not.
    #[error("shape mismatch: reconstruction {recon:?} vs target {target:?}; pass both as [batch, channels, height, width]")]
    ShapeMismatch {
        /// The reconstruction's shape.
        recon: Vec<usize>,
        /// The target's shape.
        target: Vec<usize>,
    },
    /// An image is smaller than a metric can measure (the SSIM window, LPIPS-Alex's pools).
    #[error("{metric} needs images of at least {window}×{window} pixels, got {height}×{width}")]
    ImageTooSmall {
        /// The metric.
        metric: &'static str,
        /// The smallest side it accepts.
        window: usize,
        /// Image height.
        height: usize,
        /// Image width.
        width: usize,
    },
    /// Features do not fit the statistics' dimension.
    #[error("{len} feature values do not form rows of the statistics' dimension {dim}")]
    FeatureShape {
        /// Number of values (or the other side's dimension).
        len: usize,
        /// The expected dimension.
        dim: usize,
    },
    /// A covariance needs at least two feature vectors.
    #[error("a covariance needs at least 2 feature vectors, got {0}")]
    TooFewFeatures(usize),
    /// A pretrained-weights file that is missing or does not fit the network.
    #[error("weights file {path}: {message}")]
    Weights {
        /// The file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A signal too short for a metric's analysis window.
    #[error("{metric} needs at least {needed} samples at its rate, got {samples}")]
    TooShort {
        /// The metric.
        metric: &'static str,
        /// Samples needed.
        needed: usize,
        /// Samples given.
        samples: usize,
    },
    /// A report was asked for before any image was added.
    #[error("no images were evaluated")]
    Empty,
}
