//! Training the SimVQ tokenizers: the GAN step (generator and discriminator gradients kept
//! apart), weight EMA, atomic checkpoints with exact resume, layered TOML configs, progress,
//! a metrics JSON and a PNG grid of reconstructions.
//!
//! Generic over any burn `AutodiffBackend`; the binary picks the backend.

mod checkpoint;
mod config_file;
mod ema;
mod error;
mod gan_loop;
mod image_config;
mod image_report;
mod image_trainer;
mod optimizer;

pub use checkpoint::CheckpointDir;
pub use config_file::{load_config, parse_config, to_toml};
pub use ema::WeightEma;
pub use error::{Result, TrainError};
pub use gan_loop::{LogEntry, RunOptions, RunReport};
pub use image_config::{
    ImageDataSettings, ImageTrainConfig, LpipsFiles, NonFinitePolicy, ScheduleSettings,
};
pub use image_report::{batch_tensor, evaluate_images, save_grid, ImageEvalReport, ImagePair};
pub use image_trainer::{train_image, ImageRunReport};
pub use optimizer::OptimizerSettings;
