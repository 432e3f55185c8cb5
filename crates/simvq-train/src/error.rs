//! What can stop a training run.

/// Training errors; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The loss became NaN or infinite.
    #[error("non-finite loss at step {step} ({what}); the last checkpoint is intact. Lower the learning rate, add warm-up (optimizer.warmup_steps) or gradient clipping (optimizer.grad_clip_norm), or set schedule.on_non_finite = \"skip\"")]
    NonFinite {
        /// The step.
        step: usize,
        /// Which loss.
        what: String,
    },
    /// The model refused its config or input.
    #[error(transparent)]
    Image(#[from] simvq_image::ImageError),
    /// The audio model refused its config or input.
    #[error(transparent)]
    Audio(#[from] simvq_audio::AudioError),
    /// The dataset could not be read.
    #[error(transparent)]
    Data(#[from] simvq_data::DataError),
    /// A metric could not be computed.
    #[error(transparent)]
    Metrics(#[from] simvq_metrics::MetricsError),
    /// Codebook statistics failed.
    #[error(transparent)]
    Quant(#[from] simvq_quant::QuantError),
    /// A multi-node run could not start or lost a node.
    #[error("multi-node training: {0}")]
    Cluster(String),
    /// A run's config, checkpoint or output file.
    #[error(transparent)]
    Run(#[from] simvq_run::RunError),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, TrainError>;
