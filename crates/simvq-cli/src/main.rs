//! `simvq`: export trained SimVQ tokenizers, inspect them, and turn image and audio files into
//! token files and back.

mod backend;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use burn::module::Module;
use burn::tensor::backend::Backend;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use simvq_audio::AudioCodecConfig;
use simvq_data::{FileList, AUDIO_EXTENSIONS, IMAGE_EXTENSIONS};
use simvq_image::ImageTokenizerConfig;
use simvq_run::{load_config_section, RunCheckpoint};

use simvq_cli::{
    import_checkpoint, load_model, read_model_info, save_model, Checkpoint, ImageSize, Model,
    ModelConfig, ModelKind, TokenFile, Tokenizer, TOKEN_EXTENSION,
};

use crate::backend::{on_backend, BackendKind};

#[derive(Parser)]
#[command(
    name = "simvq",
    version,
    about = "SimVQ image and audio tokenizers: tokens in, tokens out"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a trained run's weights (EMA by default) as a self-describing safetensors model.
    Export {
        /// A run directory of `cargo xtask train` (newest checkpoint) or one of its checkpoints.
        #[arg(long)]
        run: PathBuf,
        /// Export the raw weights instead of the EMA ones (the reference evaluates EMA).
        #[arg(long)]
        no_ema: bool,
        /// The model file to write (`.safetensors`).
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a released reference checkpoint (PyTorch Lightning `.ckpt`) as a model file.
    Import {
        /// The checkpoint, e.g. `vq_log/simvq_65k/epoch=49-step=250250.ckpt`.
        #[arg(long)]
        ckpt: PathBuf,
        /// Which tokenizer the checkpoint holds.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// A training config (`configs/*.toml`) describing the checkpoint's architecture; by
        /// default the reference's, with K read from the checkpoint.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Import the raw weights instead of the EMA ones (the reference evaluates EMA).
        #[arg(long)]
        no_ema: bool,
        /// The model file to write (`.safetensors`).
        #[arg(long)]
        out: PathBuf,
    },
    /// Describe a model file: kind, K, tokens per image or second, bitrate, parameters.
    Info {
        /// The model file.
        #[arg(long)]
        model: PathBuf,
    },
    /// Image or audio files (or folders of them) → token files (`.svqt`).
    Encode(Convert),
    /// Token files (or folders of them) → PNG or 16-bit WAV.
    Decode(Convert),
    /// Image or audio files → encoded and decoded again → PNG or 16-bit WAV.
    Reconstruct(Convert),
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum KindArg {
    /// The image tokenizer (`vq_log/simvq_*`).
    Image,
    /// The audio codec (`vq_audio_log/simvq_*`).
    Audio,
}

#[derive(clap::Args)]
struct Convert {
    /// The model file (`simvq export`).
    #[arg(long)]
    model: PathBuf,
    /// Files or folders to convert.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output folder (inputs from folders keep their relative paths).
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// Images: resize the shorter side to N and centre-crop N×N (the reference evaluates at
    /// 128); 0 keeps the image's size, cropped to whole tokens.
    #[arg(long, default_value_t = 128)]
    size: u32,
    /// Compute backend.
    #[arg(long, value_enum, default_value = "cpu")]
    backend: BackendKind,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Export { run, no_ema, out } => export(&run, !no_ema, &out),
        Command::Import {
            ckpt,
            kind,
            config,
            no_ema,
            out,
        } => import(&ckpt, kind, config.as_deref(), !no_ema, &out),
        Command::Info { model } => info(&model),
        Command::Encode(args) => on_backend!(args.backend, |B, device| convert::<B>(
            &args,
            Step::Encode,
            &device
        )),
        Command::Decode(args) => on_backend!(args.backend, |B, device| convert::<B>(
            &args,
            Step::Decode,
            &device
        )),
        Command::Reconstruct(args) => on_backend!(args.backend, |B, device| convert::<B>(
            &args,
            Step::Reconstruct,
            &device
        )),
    }
}

/// `simvq export`.
fn export(run: &Path, ema: bool, out: &Path) -> Result<()> {
    type B = burn::backend::Flex;
    let device = Default::default();
    let located = RunCheckpoint::locate(run)?;
    let config_path = located.run.join("config.toml");
    // A [baseline.<Quantizer>] table: the run trained another quantizer in SimVQ's place.
    if let Ok(baseline) = load_config_section(&config_path, "baseline", &serde_json::Value::Null) {
        bail!(
            "{} trained a baseline quantizer ({baseline}) for a comparison, not SimVQ; \
             export takes SimVQ runs",
            located.run.display()
        );
    }
    let config = match model_section(&config_path, KindArg::Image, 1_024) {
        Ok(image) => image,
        Err(image_error) => match model_section(&config_path, KindArg::Audio, 4_096) {
            Ok(audio) => audio,
            Err(audio_error) => bail!(
                "{} is neither an image run ({image_error}) nor an audio run ({audio_error})",
                config_path.display()
            ),
        },
    };
    let weights = if ema { "ema" } else { "model" };
    let tokenizer = match config.init::<B>(&device)? {
        Tokenizer::Image(m) => Tokenizer::Image(located.load_weights(m, weights, &device)?),
        Tokenizer::Audio(m) => Tokenizer::Audio(located.load_weights(m, weights, &device)?),
    };
    let source = format!("{}", located.checkpoint.join(weights).display());
    let info = save_model(&tokenizer, &config, &source, out)?;
    println!(
        "wrote {} ({:?}, K = {}, fingerprint {})",
        out.display(),
        config.kind(),
        config.codebook_size(),
        info.fingerprint
    );
    Ok(())
}

/// The `[model]` table of a training config or run's `config.toml`, over the reference model
/// of `kind` with `k` codes.
fn model_section(path: &Path, kind: KindArg, k: usize) -> simvq_run::Result<ModelConfig> {
    Ok(match kind {
        KindArg::Image => ModelConfig::Image(load_config_section(
            path,
            "model",
            &ImageTokenizerConfig::reference(k),
        )?),
        KindArg::Audio => ModelConfig::Audio(load_config_section(
            path,
            "model",
            &AudioCodecConfig::reference(k),
        )?),
    })
}

/// `simvq import`.
fn import(ckpt: &Path, kind: KindArg, config: Option<&Path>, ema: bool, out: &Path) -> Result<()> {
    type B = burn::backend::Flex;
    let checkpoint = Checkpoint::read(ckpt)?;
    let k = checkpoint.codebook_size()?;
    let config = match (kind, config) {
        (KindArg::Image, None) => ModelConfig::Image(ImageTokenizerConfig::reference(k)),
        (KindArg::Audio, None) => ModelConfig::Audio(AudioCodecConfig::reference(k)),
        (kind, Some(path)) => model_section(path, kind, k)?,
    };
    let (tokenizer, report) =
        import_checkpoint::<B>(&checkpoint, &config, ema, &Default::default())?;
    let weights = if ema { "EMA" } else { "raw" };
    let info = save_model(&tokenizer, &config, &ckpt.display().to_string(), out)?;
    println!(
        "wrote {} ({:?}, K = {k}, {weights} weights: {} tensors, {} checkpoint tensors unused, \
         fingerprint {})",
        out.display(),
        config.kind(),
        report.loaded,
        report.ignored,
        info.fingerprint
    );
    Ok(())
}

/// `simvq info`.
fn info(path: &Path) -> Result<()> {
    let info = read_model_info(path)?;
    let k = info.config.codebook_size();
    let bits = (k as f64).log2();
    println!("model        {}", path.display());
    println!("kind         {:?}", info.config.kind());
    println!("codebook     K = {k} ({bits:.1} bits per token)");
    match &info.config {
        ModelConfig::Image(c) => {
            let f = c.autoencoder.downsample_factor();
            let side = 128 / f;
            println!(
                "tokens       one per {f}×{f} pixels: {side}×{side} = {} per 128² image",
                side * side
            );
            println!(
                "bits         {:.0} per 128² image",
                (side * side) as f64 * bits
            );
        }
        ModelConfig::Audio(c) => {
            println!(
                "tokens       {:.1} per second at {} Hz",
                c.frame_rate(),
                c.sample_rate
            );
            println!("bitrate      {:.3} kbps", c.bitrate() / 1000.0);
        }
    }
    let (_, tokenizer) = load_model::<burn::backend::Flex>(path, &Default::default())?;
    let params = match &tokenizer {
        Tokenizer::Image(m) => m.num_params(),
        Tokenizer::Audio(m) => m.num_params(),
    };
    println!("parameters   {params} (frozen codebook C included)");
    println!("fingerprint  {}", info.fingerprint);
    if !info.source.is_empty() {
        println!("source       {}", info.source);
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Encode,
    Decode,
    Reconstruct,
}

/// Every file to convert, with its path relative to the output folder.
fn expand(inputs: &[PathBuf], extensions: &[&str]) -> Result<Vec<(PathBuf, PathBuf)>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let list = FileList::scan(input, extensions)?;
            for file in list.files() {
                let relative = file.strip_prefix(input).unwrap_or(file).to_path_buf();
                files.push((file.clone(), relative));
            }
        } else if input.is_file() {
            let name = input.file_name().map(PathBuf::from).unwrap_or_default();
            files.push((input.clone(), name));
        } else {
            bail!("{}: no such file or folder", input.display());
        }
    }
    Ok(files)
}

/// `simvq encode|decode|reconstruct` over every input, with a progress bar; failures are listed
/// at the end and make the exit status non-zero, the other files are still converted.
fn convert<B: Backend>(args: &Convert, step: Step, device: &B::Device) -> Result<()> {
    let (info, tokenizer) = load_model::<B>(&args.model, device)?;
    let model = Model { info, tokenizer };
    let media: &[&str] = match model.info.config.kind() {
        ModelKind::Image => &IMAGE_EXTENSIONS,
        ModelKind::Audio => &AUDIO_EXTENSIONS,
    };
    let files = match step {
        Step::Decode => expand(&args.inputs, &[TOKEN_EXTENSION])?,
        _ => expand(&args.inputs, media)?,
    };
    let size = match args.size {
        0 => ImageSize::Native,
        n => ImageSize::Square(n),
    };
    let bar = ProgressBar::new(files.len() as u64);
    bar.set_style(ProgressStyle::with_template(
        "{bar:30} {pos}/{len} files  [{elapsed_precise} < {eta_precise}]  {msg}",
    )?);
    let mut failed = Vec::new();
    for (file, relative) in &files {
        bar.set_message(relative.display().to_string());
        // Reconstructions get `.recon` so that they never overwrite their inputs.
        let extension = match step {
            Step::Encode => TOKEN_EXTENSION.to_string(),
            Step::Decode => model.output_extension().to_string(),
            Step::Reconstruct => format!("recon.{}", model.output_extension()),
        };
        let output = args.out.join(relative).with_extension(extension);
        let result = (|| -> Result<()> {
            if let Some(parent) = output.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            let tokens = match step {
                Step::Decode => {
                    let tokens = TokenFile::read(file)?;
                    model.check_tokens(&tokens, file)?;
                    tokens
                }
                _ => model.encode_file(file, size, device)?,
            };
            match step {
                Step::Encode => tokens.write(&output)?,
                _ => model.decode_to_file(&tokens, &output, device)?,
            }
            Ok(())
        })();
        if let Err(e) = result {
            let message = format!("{e:#}");
            let named = message.contains(&file.display().to_string());
            bar.suspend(|| match named {
                true => eprintln!("{message}"),
                false => eprintln!("{}: {message}", file.display()),
            });
            failed.push(file.clone());
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!(
        "{} of {} files written to {}",
        files.len() - failed.len(),
        files.len(),
        args.out.display()
    );
    if !failed.is_empty() {
        bail!("{} files failed (named above)", failed.len());
    }
    Ok(())
}
