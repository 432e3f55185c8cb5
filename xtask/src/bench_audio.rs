//! `cargo xtask bench audio`: training throughput of the audio codec (the reference model by
//! default: K = 65,536, MPD + MRD + DAC, 1-second clips) through the real training loop on the
//! demo speech, and what that means for one LibriTTS epoch.

use std::path::PathBuf;

use anyhow::Result;
use burn::tensor::backend::AutodiffBackend;
use serde::Serialize;
use simvq_data::demo_speech_dir;
use simvq_train::{load_config, train_audio, AudioTrainConfig};

use crate::bench_image::{timed_throughput, timing_run, timing_schedule};

/// LibriTTS training utterances (train-clean-100 + train-clean-360 + train-other-500): one
/// 1-second clip each per epoch.
const LIBRITTS_TRAIN_UTTERANCES: f64 = 354_780.0;

/// What to measure.
#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct AudioBenchArgs {
    /// Config to time (default: the reference, K = 65,536).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Clips per step.
    #[arg(long, default_value_t = 2)]
    pub batch: usize,
    /// Timed steps (after one warm-up step).
    #[arg(long, default_value_t = 2)]
    pub steps: usize,
}

/// The measurement.
#[derive(Debug, Clone, Serialize)]
pub struct AudioBenchReport {
    /// Seconds per clip.
    pub clip_seconds: f64,
    /// Clips per step.
    pub batch: usize,
    /// Codebook size.
    pub codebook_size: usize,
    /// Whether the DAC discriminator was trained.
    pub dac: bool,
    /// Training clips per second (generator + discriminator step, EMA, data loading).
    pub clips_per_second: f64,
    /// Hours for one LibriTTS epoch at this speed.
    pub hours_per_libritts_epoch: f64,
}

/// Runs the benchmark on backend `B`.
pub fn run<B: AutodiffBackend>(
    args: &AudioBenchArgs,
    device: &B::Device,
) -> Result<AudioBenchReport> {
    let reference = AudioTrainConfig::reference(65_536);
    let mut config = match &args.config {
        Some(path) => load_config(path, &reference)?,
        None => reference,
    };
    config.data.batch_size = args.batch;
    timing_schedule(&mut config.schedule, args.steps);
    let dir = tempfile::tempdir()?;
    let report = train_audio::<B>(&config, &timing_run(demo_speech_dir(), dir.path()), device)?;
    let clips_per_second = timed_throughput(&report.history);
    Ok(AudioBenchReport {
        clip_seconds: config.data.clip_seconds,
        batch: args.batch,
        codebook_size: config.model.quantizer.codebook_size,
        dac: config.discriminator.use_dac,
        clips_per_second,
        hours_per_libritts_epoch: LIBRITTS_TRAIN_UTTERANCES / clips_per_second / 3600.0,
    })
}
