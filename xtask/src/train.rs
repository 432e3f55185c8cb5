//! `cargo xtask train image|audio`: the tokenizers' training runs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use serde::de::DeserializeOwned;
use serde::Serialize;
use simvq_data::{demo_images_dir, demo_speech_dir};
use simvq_train::{
    load_config, train_audio, train_image, AudioRunReport, AudioTrainConfig, ImageRunReport,
    ImageTrainConfig, NodeSettings, RunOptions, SplitEval, SplitMetrics,
};

use crate::backend::{dispatch, BackendKind};

/// Arguments of `train image` and `train audio`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// TOML config, layered over the reference defaults (e.g. configs/imagenet_simvq_128_B.toml,
    /// configs/libritts_24khz.toml). Without it: the built-in CPU demo (configs/demo_*.toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data. Images: ImageNet's root (with train/ and val/) or any folder tree of images.
    /// Audio: a LibriTTS root with the manifests train.txt and dev.txt (`cargo xtask
    /// manifest`), a folder with train/ and val/, or any folder tree of audio files. A folder
    /// without a train/val split serves both. Default: the built-in demo data.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Compute backend.
    #[arg(long, value_enum, default_value = "cpu")]
    backend: BackendKind,
    /// Continue from the newest checkpoint in --out.
    #[arg(long)]
    resume: bool,
    /// Run directory (config, checkpoints, metrics.json, samples). Default: runs/CONFIG_NAME.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override schedule.steps.
    #[arg(long)]
    steps: Option<usize>,
    /// No progress bar (log lines only).
    #[arg(long)]
    no_progress: bool,
    /// Data-parallel training over this many devices of the backend (e.g. 4 GPUs). The batch
    /// size stays the global one.
    #[arg(long, default_value_t = 1)]
    devices: usize,
    /// Multi-node training: processes in the run (one per machine or per GPU), each started
    /// with the same arguments and its own --node-rank. The batch size stays the global one:
    /// each node trains its slice of every batch, gradients are summed across nodes each step.
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// This process's rank, 0..nodes. Rank 0 hosts the coordinator and alone writes
    /// checkpoints and reports; every rank resumes from them (share --out between nodes).
    #[arg(long, default_value_t = 0)]
    node_rank: usize,
    /// HOST:PORT of rank 0's coordinator, the same on every node (required with --nodes > 1).
    #[arg(long)]
    coordinator: Option<String>,
    /// HOST:PORT the other nodes reach this node at (default: the coordinator's host,
    /// port + 1 + rank, right when all nodes share one machine).
    #[arg(long)]
    node_address: Option<String>,
    /// Seconds to wait for the other nodes (to join, and at each step) before stopping with
    /// an error.
    #[arg(long, default_value_t = 300)]
    node_timeout: u64,
}

/// The multi-node settings of the arguments (`None` for a run of one process).
fn node_settings(args: &TrainArgs) -> Result<Option<NodeSettings>> {
    if args.nodes <= 1 {
        return Ok(None);
    }
    let coordinator = args
        .coordinator
        .clone()
        .context("--nodes > 1 needs --coordinator HOST:PORT (rank 0's machine)")?;
    let settings = NodeSettings {
        nodes: args.nodes,
        rank: args.node_rank,
        coordinator,
        address: args.node_address.clone(),
        timeout: Duration::from_secs(args.node_timeout),
    };
    settings.validate()?;
    Ok(Some(settings))
}

/// The config (the file over `reference`, or `demo`) and the run's name.
fn config_and_name<C: Serialize + DeserializeOwned>(
    args: &TrainArgs,
    reference: C,
    demo: (C, &str),
) -> Result<(C, String)> {
    Ok(match &args.config {
        Some(path) => {
            let name = path
                .file_stem()
                .map_or("run".into(), |s| s.to_string_lossy().into_owned());
            (load_config(path, &reference)?, name)
        }
        None => (demo.0, demo.1.to_owned()),
    })
}

fn run_options(
    args: &TrainArgs,
    (train, val): (PathBuf, PathBuf),
    name: &str,
) -> Result<RunOptions> {
    Ok(RunOptions {
        train,
        val,
        out_dir: args
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("runs").join(name)),
        resume: args.resume,
        stop_after: None,
        progress: !args.no_progress,
        devices: args.devices,
        nodes: node_settings(args)?,
    })
}

/// `root/train` and `root/val` when they exist (val falling back to train), else `root` twice.
pub(crate) fn split_folders(root: &Path) -> (PathBuf, PathBuf) {
    let train = root.join("train");
    if train.is_dir() {
        let val = root.join("val");
        let val = if val.is_dir() { val } else { train.clone() };
        (train, val)
    } else {
        (root.to_path_buf(), root.to_path_buf())
    }
}

/// Audio data: the reference's manifests `train.txt` and `dev.txt` under `root` when present,
/// else folders.
pub(crate) fn audio_sources(root: &Path) -> (PathBuf, PathBuf) {
    let train = root.join("train.txt");
    if train.is_file() {
        let dev = root.join("dev.txt");
        (train.clone(), if dev.is_file() { dev } else { train })
    } else {
        split_folders(root)
    }
}

/// Runs `train image`.
pub fn image(args: &TrainArgs) -> Result<()> {
    let (mut config, name) = config_and_name(
        args,
        ImageTrainConfig::reference(65_536),
        (ImageTrainConfig::demo(), "demo_image"),
    )?;
    if let Some(steps) = args.steps {
        config.schedule.steps = steps;
    }
    let root = args.data.clone().unwrap_or_else(demo_images_dir);
    let options = run_options(args, split_folders(&root), &name)?;
    eprintln!(
        "training `{name}` on {} ({} codes, {}² images, batch {}, {} steps) → {}",
        options.train.display(),
        config.codebook_size(),
        config.data.image_size,
        config.data.batch_size,
        config.schedule.steps,
        options.out_dir.display()
    );
    let report = dispatch!(args.backend, |B, device| {
        train_image::<B>(&config, &options, &device).map_err(anyhow::Error::from)
    })
    .with_context(|| format!("training `{name}`"))?;
    summarise(&options, &report, print_image_summary);
    Ok(())
}

/// Runs `train audio`.
pub fn audio(args: &TrainArgs) -> Result<()> {
    let (mut config, name) = config_and_name(
        args,
        AudioTrainConfig::reference(65_536),
        (AudioTrainConfig::demo(), "demo_audio"),
    )?;
    if let Some(steps) = args.steps {
        config.schedule.steps = steps;
    }
    let root = args.data.clone().unwrap_or_else(demo_speech_dir);
    let options = run_options(args, audio_sources(&root), &name)?;
    eprintln!(
        "training `{name}` on {} ({} codes, {:.0} tokens/s, {:.3} kbps, {} s crops, batch {}, \
         {} steps) → {}",
        options.train.display(),
        config.codebook_size(),
        config.model.frame_rate(),
        config.model.bitrate() / 1000.0,
        config.data.clip_seconds,
        config.data.batch_size,
        config.schedule.steps,
        options.out_dir.display()
    );
    let report = dispatch!(args.backend, |B, device| {
        train_audio::<B>(&config, &options, &device).map_err(anyhow::Error::from)
    })
    .with_context(|| format!("training `{name}`"))?;
    summarise(&options, &report, print_audio_summary);
    Ok(())
}

/// The run's summary, on the process that wrote its files (a line on the other nodes).
fn summarise<E>(
    options: &RunOptions,
    report: &simvq_train::RunReport<E>,
    print: impl FnOnce(&simvq_train::RunReport<E>, &Path),
) {
    if options.is_leader() {
        print(report, &options.out_dir);
    } else {
        println!(
            "steps: {}; rank 0 writes the run's checkpoints and reports",
            report.steps
        );
    }
}

fn print_run<E>(report: &simvq_train::RunReport<E>, out: &Path) {
    println!("steps: {}  ({:.0} s)", report.steps, report.seconds);
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
}

/// The two evaluated splits, named for the reader (with a warning when nothing was held out).
fn splits<E>(eval: &SplitEval<E>) -> [(&'static str, &SplitMetrics<E>); 2] {
    let validation = if eval.validation.held_out {
        "the VALIDATION split"
    } else {
        "the validation data (NOT held out: the training data again)"
    };
    [
        (validation, &eval.validation),
        ("the TRAINING split", &eval.training),
    ]
}

fn print_image_summary(report: &ImageRunReport, out: &Path) {
    print_run(report, out);
    if let Some(eval) = &report.eval {
        for (split, part) in splits(eval) {
            let e = &part.metrics;
            println!(
                "EMA weights on {split} ({} images of {}): utilization {:.1}%  perplexity {:.0}  \
                 PSNR {:.2} dB (per image {:.2})  SSIM {:.1}",
                e.images,
                part.source,
                100.0 * e.utilization,
                e.perplexity,
                e.psnr,
                e.psnr_per_image,
                100.0 * e.ssim
            );
        }
    }
    println!(
        "grid (originals above reconstructions): {}",
        out.join("reconstructions.png").display()
    );
}

fn print_audio_summary(report: &AudioRunReport, out: &Path) {
    print_run(report, out);
    if let Some(eval) = &report.eval {
        for (split, part) in splits(eval) {
            let e = &part.metrics;
            println!(
                "EMA weights on {split} ({} utterances, {:.1} s, of {}): utilization {:.1}%  \
                 perplexity {:.0}  log-mel L1 {:.3}  STOI {:.3}  PESQ {}",
                e.utterances,
                e.seconds,
                part.source,
                100.0 * e.utilization,
                e.perplexity,
                e.mel_l1,
                e.stoi,
                e.pesq.map_or("—".into(), |p| format!("{p:.3}"))
            );
        }
    }
    println!(
        "originals and reconstructions: {}",
        out.join("samples").display()
    );
    println!(
        "mel spectrograms (original above reconstruction): {}",
        out.join("mels.png").display()
    );
}
