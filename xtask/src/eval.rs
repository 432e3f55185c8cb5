//! `cargo xtask eval audio`: the reference's audio evaluation protocol on a trained run —
//! EMA weights, whole utterances at batch 1, reconstructions clipped to ±0.99 and scored as
//! the 16-bit files the reference reloads — printed as a Table 2 row and written as JSON.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use burn::tensor::backend::AutodiffBackend;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use simvq_audio::MelSpectrogram;
use simvq_data::{demo_speech_dir, AudioClip, AudioLoader, FileList};
use simvq_train::{
    evaluate_audio, load_config, save_wav_pair, AudioEvalReport, AudioTrainConfig, CheckpointDir,
};

use crate::backend::{dispatch, BackendKind};

/// Arguments of `eval audio`.
#[derive(Debug, Args)]
pub struct AudioEvalArgs {
    /// A run directory of `train audio` (its newest checkpoint is evaluated) or one of its
    /// checkpoints (RUN/checkpoints/step-N).
    #[arg(long)]
    ckpt: PathBuf,
    /// Test data: a manifest (e.g. /data/LibriTTS/test-other.txt), a LibriTTS root holding
    /// test-other.txt, or a folder of audio files. Default: the demo speech.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Only the first N utterances (0: all).
    #[arg(long, default_value_t = 0)]
    limit: usize,
    /// Save every reconstruction here as 16-bit WAV.
    #[arg(long)]
    save_recons: Option<PathBuf>,
    /// Where to write the results as JSON (default: eval.json in the run directory).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Compute backend.
    #[arg(long, value_enum, default_value = "cpu")]
    backend: BackendKind,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
}

/// What `eval audio` writes.
#[derive(Debug, Serialize)]
struct AudioEvalOutput {
    checkpoint: PathBuf,
    data: PathBuf,
    metrics: AudioEvalReport,
    /// Metrics of the reference's table not computed here.
    not_computed: [&'static str; 2],
}

/// The run directory and checkpoint directory of `--ckpt`.
fn locate(ckpt: &Path) -> Result<(PathBuf, PathBuf)> {
    if ckpt.join("config.toml").is_file() {
        let (_, dir) = CheckpointDir::new(ckpt, 1)
            .latest()?
            .with_context(|| format!("no checkpoint under {}", ckpt.display()))?;
        return Ok((ckpt.to_path_buf(), dir));
    }
    let run = ckpt.parent().and_then(Path::parent);
    match run {
        Some(run) if ckpt.join("ema.mpk").is_file() && run.join("config.toml").is_file() => {
            Ok((run.to_path_buf(), ckpt.to_path_buf()))
        }
        _ => bail!(
            "{} is neither a run directory (with config.toml and checkpoints/) nor one of its \
             checkpoints (with ema.mpk)",
            ckpt.display()
        ),
    }
}

/// The test files of `--data`.
fn test_files(data: Option<&Path>) -> Result<(PathBuf, FileList)> {
    let path = data.map_or_else(demo_speech_dir, Path::to_path_buf);
    let manifest = path.join("test-other.txt");
    let source = if manifest.is_file() { manifest } else { path };
    let files = FileList::audio_source(&source)?;
    Ok((source, files))
}

/// Runs `eval audio`.
pub fn audio(args: &AudioEvalArgs) -> Result<()> {
    let (run, checkpoint) = locate(&args.ckpt)?;
    let config = load_config(
        &run.join("config.toml"),
        &AudioTrainConfig::reference(65_536),
    )?;
    let (source, files) = test_files(args.data.as_deref())?;
    let count = if args.limit > 0 {
        args.limit.min(files.len())
    } else {
        files.len()
    };
    let rate = config.model.sample_rate as u32;
    let loader = AudioLoader::new(
        files,
        AudioClip {
            sample_rate: rate,
            length: None,
        },
        1,
        false,
        0,
    )?;
    eprintln!(
        "evaluating {} on {count} utterances of {}",
        checkpoint.display(),
        source.display()
    );
    let bar = if args.no_progress {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(count as u64)
    };
    bar.set_style(ProgressStyle::with_template(
        "{bar:30} {pos}/{len} utterances  [{elapsed_precise} < {eta_precise}]",
    )?);
    let metrics = dispatch!(args.backend, |B, device| {
        evaluate::<B>(&config, &checkpoint, &loader, args, &bar, &device)
    })?;
    bar.finish_and_clear();
    let output = AudioEvalOutput {
        checkpoint,
        data: source,
        metrics,
        not_computed: ["UTMOS", "V/UV F1"],
    };
    let m = &output.metrics;
    println!("| utilization | UTMOS | PESQ (wb) | STOI | V/UV F1 |");
    println!("|---|---|---|---|---|");
    println!(
        "| {:.1}% | not computed | {} | {:.3} | not computed |",
        100.0 * m.utilization,
        m.pesq.map_or("—".into(), |p| format!("{p:.3}")),
        m.stoi
    );
    println!(
        "{} utterances ({:.1} s), perplexity {:.0}, log-mel L1 {:.3}, {} not scored by PESQ",
        m.utterances, m.seconds, m.perplexity, m.mel_l1, m.pesq_unscored
    );
    let json = args.json.clone().unwrap_or_else(|| run.join("eval.json"));
    std::fs::write(&json, serde_json::to_string_pretty(&output)?)
        .with_context(|| format!("writing {}", json.display()))?;
    println!("results: {}", json.display());
    Ok(())
}

fn evaluate<B: AutodiffBackend>(
    config: &AudioTrainConfig,
    checkpoint: &Path,
    loader: &AudioLoader,
    args: &AudioEvalArgs,
    bar: &ProgressBar,
    device: &B::Device,
) -> Result<AudioEvalReport> {
    let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
    let model = config
        .model
        .init::<B::InnerBackend>(device)?
        .load_file(checkpoint.join("ema"), &recorder, device)
        .with_context(|| format!("loading the EMA weights of {}", checkpoint.display()))?;
    let mel = MelSpectrogram::<B::InnerBackend>::new(&config.loss.mel, device);
    let rate = config.model.sample_rate as u32;
    Ok(evaluate_audio(
        &model,
        &mel,
        loader,
        args.limit,
        device,
        |pair| {
            if let Some(dir) = &args.save_recons {
                save_wav_pair(&pair, dir, rate, false)?;
            }
            bar.inc(1);
            Ok(())
        },
    )?)
}
