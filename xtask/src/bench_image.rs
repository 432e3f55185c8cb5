//! `cargo xtask bench image`: training throughput of the image tokenizer (the reference model by
//! default: 128², f8, K = 65,536, with its PatchGAN) through the real training loop, on
//! generated images, and what that means for one ImageNet epoch.

use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::tensor::backend::AutodiffBackend;
use image::{Rgb, RgbImage};
use serde::Serialize;
use simvq_train::{
    load_config, train_image, ImageTrainConfig, LogEntry, RunOptions, ScheduleSettings,
};

/// ImageNet-1k training images: one epoch.
const IMAGENET_TRAIN_IMAGES: f64 = 1_281_167.0;

/// What to measure.
#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct ImageBenchArgs {
    /// Config to time (default: the reference, K = 65,536, without LPIPS unless the file sets it).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Images per step.
    #[arg(long, default_value_t = 4)]
    pub batch: usize,
    /// Timed steps (after one warm-up step).
    #[arg(long, default_value_t = 3)]
    pub steps: usize,
}

/// The measurement.
#[derive(Debug, Clone, Serialize)]
pub struct ImageBenchReport {
    /// Side of the images.
    pub image_size: u32,
    /// Images per step.
    pub batch: usize,
    /// Codebook size.
    pub codebook_size: usize,
    /// Whether LPIPS-VGG was in the loss.
    pub lpips: bool,
    /// Training images per second (generator + discriminator step, EMA, data loading).
    pub images_per_second: f64,
    /// Hours for one ImageNet epoch at this speed.
    pub hours_per_imagenet_epoch: f64,
}

/// Runs the benchmark on backend `B`.
pub fn run<B: AutodiffBackend>(
    args: &ImageBenchArgs,
    device: &B::Device,
) -> Result<ImageBenchReport> {
    let mut config = match &args.config {
        Some(path) => load_config(path, &ImageTrainConfig::reference(65_536))?,
        None => {
            let mut c = ImageTrainConfig::reference(65_536);
            c.loss.perceptual_weight = 0.0;
            c
        }
    };
    config.data.batch_size = args.batch;
    let images_per_second = throughput::<B>(&config, args.steps, device)?;
    Ok(ImageBenchReport {
        image_size: config.data.image_size,
        batch: args.batch,
        codebook_size: config.model.quantizer.codebook_size,
        lpips: config.loss.perceptual_weight > 0.0,
        images_per_second,
        hours_per_imagenet_epoch: IMAGENET_TRAIN_IMAGES / images_per_second / 3600.0,
    })
}

/// Training images per second of `config` over `steps` timed steps (after one warm-up step),
/// through the real training loop on generated images of its batch size.
pub fn throughput<B: AutodiffBackend>(
    config: &ImageTrainConfig,
    steps: usize,
    device: &B::Device,
) -> Result<f64> {
    let mut config = config.clone();
    timing_schedule(&mut config.schedule, steps);
    let size = config.data.image_size;
    let dir = tempfile::tempdir()?;
    let images = dir.path().join("images");
    std::fs::create_dir_all(&images)?;
    for i in 0..config.data.batch_size {
        let image = RgbImage::from_fn(size + 16, size + 8, |x, y| {
            Rgb([
                (x * 3 + i as u32 * 40) as u8,
                (y * 5) as u8,
                ((x ^ y) * 7) as u8,
            ])
        });
        let path = images.join(format!("{i}.png"));
        image
            .save(&path)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let report = train_image::<B>(&config, &timing_run(images, dir.path()), device)?;
    Ok(timed_throughput(&report.history))
}

/// A schedule of one warm-up step and `steps` timed ones, each logged, no checkpoint before
/// the end, a one-example evaluation.
pub fn timing_schedule(schedule: &mut ScheduleSettings, steps: usize) {
    schedule.steps = steps + 1;
    schedule.log_every = 1;
    schedule.checkpoint_every = usize::MAX;
    schedule.eval_examples = 1;
    schedule.saved_examples = 1;
}

/// A run on `data` inside the temporary folder `dir`.
pub fn timing_run(data: PathBuf, dir: &std::path::Path) -> RunOptions {
    RunOptions {
        train: data.clone(),
        val: data,
        out_dir: dir.join("run"),
        resume: false,
        stop_after: None,
        progress: false,
        devices: 1,
        nodes: None,
    }
}

/// Mean examples per second of the logged steps after the first (which pays for allocation
/// and kernel compilation).
pub fn timed_throughput(history: &[LogEntry]) -> f64 {
    let timed = &history[1..];
    timed.iter().map(|e| e.examples_per_second).sum::<f64>() / timed.len() as f64
}
