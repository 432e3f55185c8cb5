//! `cargo xtask train image`: the image tokenizer's training run.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use simvq_data::demo_images_dir;
use simvq_train::{load_config, train_image, ImageRunReport, ImageTrainConfig, RunOptions};

use crate::backend::{dispatch, BackendKind};

/// Arguments of `train image`.
#[derive(Debug, Args)]
pub struct ImageTrainArgs {
    /// TOML config, layered over the reference defaults (e.g. configs/imagenet_simvq_128_B.toml).
    /// Without it: the built-in CPU demo (configs/demo_image.toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Image folder: ImageNet's root (with train/ and val/), or any folder tree of images
    /// (then used for both). Default: the built-in demo photos.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Compute backend.
    #[arg(long, value_enum, default_value = "cpu")]
    backend: BackendKind,
    /// Continue from the newest checkpoint in --out.
    #[arg(long)]
    resume: bool,
    /// Run directory (config, checkpoints, metrics.json, reconstructions.png).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override schedule.steps.
    #[arg(long)]
    steps: Option<usize>,
    /// No progress bar (log lines only).
    #[arg(long)]
    no_progress: bool,
    /// Data-parallel training over this many devices of the backend (e.g. 4 GPUs: the
    /// reference's global batch of 256 as 4 × 64). The batch size stays the global one.
    #[arg(long, default_value_t = 1)]
    devices: usize,
}

/// The train and validation folders for `--data`.
fn data_dirs(data: Option<&Path>) -> (PathBuf, PathBuf) {
    let root = data.map_or_else(demo_images_dir, Path::to_path_buf);
    let train = root.join("train");
    if train.is_dir() {
        let val = root.join("val");
        let val = if val.is_dir() { val } else { train.clone() };
        (train, val)
    } else {
        (root.clone(), root)
    }
}

/// Runs the command.
pub fn image(args: &ImageTrainArgs) -> Result<()> {
    let (mut config, name) = match &args.config {
        Some(path) => {
            let defaults = ImageTrainConfig::reference(65_536);
            let name = path
                .file_stem()
                .map_or("image".into(), |s| s.to_string_lossy().into_owned());
            (load_config(path, &defaults)?, name)
        }
        None => (ImageTrainConfig::demo(), "demo_image".to_owned()),
    };
    if let Some(steps) = args.steps {
        config.schedule.steps = steps;
    }
    let (train_dir, val_dir) = data_dirs(args.data.as_deref());
    let options = RunOptions {
        train: train_dir,
        val: val_dir,
        out_dir: args
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("runs").join(&name)),
        resume: args.resume,
        stop_after: None,
        progress: !args.no_progress,
        devices: args.devices,
    };
    eprintln!(
        "training `{name}` on {} ({} codes, {}² images, batch {}, {} steps) → {}",
        options.train.display(),
        config.model.quantizer.codebook_size,
        config.data.image_size,
        config.data.batch_size,
        config.schedule.steps,
        options.out_dir.display()
    );
    let report = dispatch!(args.backend, |B, device| {
        train_image::<B>(&config, &options, &device).map_err(anyhow::Error::from)
    })
    .with_context(|| format!("training `{name}`"))?;
    print_summary(&report, &options.out_dir);
    Ok(())
}

fn print_summary(report: &ImageRunReport, out: &Path) {
    println!("steps: {}  ({:.0} s)", report.steps, report.seconds);
    if let Some(eval) = &report.eval {
        println!(
            "EMA weights on {} validation images: utilization {:.1}%  perplexity {:.0}  \
             PSNR {:.2} dB  SSIM {:.1}",
            eval.images,
            100.0 * eval.utilization,
            eval.perplexity,
            eval.psnr,
            100.0 * eval.ssim
        );
    }
    if !report.skipped_files.is_empty() {
        println!(
            "skipped {} unreadable files (listed in metrics.json)",
            report.skipped_files.len()
        );
    }
    if let Some(checkpoint) = &report.checkpoint {
        println!("checkpoint: {}", checkpoint.display());
    }
    println!("metrics: {}", out.join("metrics.json").display());
    println!(
        "grid (originals above reconstructions): {}",
        out.join("reconstructions.png").display()
    );
}
