//! Training the SimVQ tokenizers (image VQGAN, audio codec): one GAN loop (generator and
//! discriminator gradients kept apart, data parallel), weight EMA, atomic checkpoints with
//! exact resume, layered TOML configs, progress, a metrics JSON, and samples to look at and
//! listen to (a PNG grid of reconstructions; WAV pairs and mel spectrograms).
//!
//! Generic over any burn `AutodiffBackend`; the binary picks the backend.

mod audio_config;
mod audio_report;
mod audio_step;
mod audio_task;
mod audio_trainer;
mod baseline;
mod cluster;
mod data_init;
mod data_parallel;
mod ema;
mod error;
mod flat_buffer;
mod gan_loop;
mod gan_step;
mod gradients;
mod image_config;
mod image_report;
mod image_step;
mod image_task;
mod image_trainer;
mod loss_record;
mod optimizer;
mod progress;
mod run_dir;
mod run_report;
mod run_state;
mod schedule;
mod split_eval;
mod task;
mod trainable_quantizer;

pub use audio_config::{AudioDataSettings, AudioTrainConfig};
pub use audio_report::{
    evaluate_audio, save_mel_png, save_wav_pair, save_wav_pairs, AudioEvalNetworks,
    AudioEvalReport, AudioPair,
};
pub use audio_step::AudioStep;
pub use audio_task::AudioLosses;
pub use audio_trainer::{train_audio, AudioRunReport};
pub use cluster::{Cluster, NodeSettings, MAX_EXCHANGE_ELEMENTS};
pub use ema::WeightEma;
pub use error::{Result, TrainError};
pub use gan_loop::RunOptions;
pub use image_config::{ImageDataSettings, ImageTrainConfig, LpipsFiles, TrainAugment};
pub use image_report::{
    batch_tensor, evaluate_images, save_grid, save_png_pairs, ImageEvalNetworks, ImageEvalReport,
    ImagePair,
};
pub use image_step::ImageStep;
pub use image_task::ImageLosses;
pub use image_trainer::{train_image, ImageRunReport};
pub use loss_record::LossRecord;
pub use optimizer::{LrDecay, OptimizerSettings};
pub use run_report::{LogEntry, RunReport};
pub use schedule::{CodebookInit, EncoderInit, NonFinitePolicy, ScheduleSettings};
pub use split_eval::{SplitEval, SplitMetrics};
// A run's files: the trainer writes them; programs that only read them depend on simvq-run.
pub use simvq_run::{
    load_config, load_config_section, parse_config, save_png, to_toml, write_wav, CheckpointDir,
    RunCheckpoint, RunError,
};
