//! `cargo xtask`: the project's driver. Thin: the work lives in the crates.

mod alloc;
mod backend;
mod bench;
mod bench_all_reduce;
mod bench_audio;
mod bench_image;
mod bench_metrics;
mod bench_speed;
mod curves_plot;
mod eval;
mod eval_audio;
mod eval_image;
mod manifest;
mod quant_demo;
mod reproduce;
mod reproduce_audio;
mod reproduce_image;
mod reproduce_methods;
mod reproduce_report;
mod train;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use backend::{dispatch, BackendKind};

#[global_allocator]
static ALLOCATOR: alloc::CountingAllocator = alloc::CountingAllocator;

#[derive(Parser)]
#[command(about = "simvq-rs tasks: training, demos, benchmarks", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train SimVQ and plain VQ (with --all: every quantizer) side by side on generated data and
    /// print their utilization.
    QuantDemo {
        #[command(flatten)]
        args: quant_demo::DemoArgs,
        /// Compute backend.
        #[arg(long, value_enum, default_value = "cpu")]
        backend: BackendKind,
        /// Also write the curves as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Write a LibriTTS manifest (paths relative to the root, one per line) for `train audio`.
    Manifest(manifest::ManifestArgs),
    /// Train a tokenizer (`train image`, `train audio`).
    Train {
        #[command(subcommand)]
        target: TrainTarget,
    },
    /// Evaluate a trained tokenizer with the reference's protocol (`eval image`, `eval audio`).
    Eval {
        #[command(subcommand)]
        target: EvalTarget,
    },
    /// Table 1 or 2 under one budget: SimVQ at several codebook sizes and the baselines
    /// (VQGAN, VQGAN-FC, FSQ, LFQ, VQGAN-LC style) trained on the same data and evaluated on
    /// the validation split; a table (markdown, JSON) and curves (PNG). Default: CPU scale on
    /// the built-in photos or speech.
    Reproduce {
        #[command(subcommand)]
        target: ReproduceTarget,
    },
    /// Benchmarks (`bench quant`).
    Bench {
        #[command(subcommand)]
        target: BenchTarget,
    },
}

#[derive(Subcommand)]
enum TrainTarget {
    /// The SimVQ image tokenizer. With no arguments: the built-in CPU demo on the shipped
    /// photos (a few minutes on 2 cores).
    Image(train::TrainArgs),
    /// The SimVQ audio codec (24 kHz, 75 tokens/s). With no arguments: the built-in CPU demo
    /// on the shipped speech clips (a few minutes on 2 cores).
    Audio(train::TrainArgs),
}

#[derive(Subcommand)]
enum ReproduceTarget {
    /// The image tokenizers of Table 1.
    Image(reproduce::ReproduceArgs),
    /// The audio codecs of Table 2: SimVQ and the quantizers it is compared with, in one
    /// codec, evaluated on unseen speakers.
    Audio(reproduce::ReproduceArgs),
}

#[derive(Subcommand)]
enum EvalTarget {
    /// The image tokenizer on validation images: utilization, rFID, LPIPS (Alex and VGG),
    /// PSNR, SSIM (Table 1 columns; rFID and LPIPS need their weight files).
    Image(eval_image::ImageEvalArgs),
    /// The audio codec on whole test utterances: utilization, PESQ, STOI (Table 2 columns;
    /// UTMOS and V/UV F1 are not computed yet), log-mel distance.
    Audio(eval_audio::AudioEvalArgs),
}

#[derive(Subcommand)]
enum BenchTarget {
    /// Training throughput of the image tokenizer (reference model by default) and the time
    /// of an ImageNet epoch at that speed.
    Image {
        #[command(flatten)]
        args: bench_image::ImageBenchArgs,
        /// Compute backend.
        #[arg(long, value_enum, default_value = "cpu")]
        backend: BackendKind,
    },
    /// Training throughput of the audio codec (reference model by default) and the time of a
    /// LibriTTS epoch at that speed.
    Audio {
        #[command(flatten)]
        args: bench_audio::AudioBenchArgs,
        /// Compute backend.
        #[arg(long, value_enum, default_value = "cpu")]
        backend: BackendKind,
    },
    /// The image evaluation's networks (InceptionV3, LPIPS-Alex, LPIPS-VGG) per image, the
    /// 2048-d Fréchet distance, and the hours they add to an ImageNet-val evaluation.
    Metrics {
        #[command(flatten)]
        args: bench_metrics::MetricsBenchArgs,
        /// Compute backend.
        #[arg(long, value_enum, default_value = "cpu")]
        backend: BackendKind,
    },
    /// simvq-rs next to PyTorch in one run (`--python PATH`): training and encode throughput of
    /// the image models, the quantizer vs vector-quantize-pytorch, the search vs torch's sgemm.
    Speed {
        #[command(flatten)]
        args: bench_speed::SpeedArgs,
        /// Compute backend.
        #[arg(long, value_enum, default_value = "cpu")]
        backend: BackendKind,
        /// Also write the cases as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// What a multi-node step pays for its exchange: two processes on this machine sum the
    /// gradient buffers of the demo and reference models (burn-collective), beside
    /// torch.distributed's gloo all_reduce with `--python PATH`.
    AllReduce {
        #[command(flatten)]
        args: bench_all_reduce::AllReduceArgs,
        /// Also write the rows as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// SimVQ forward+backward time and memory vs one plain matmul, K = 1k … 262k.
    Quant {
        #[command(flatten)]
        args: bench::BenchArgs,
        /// Compute backend.
        #[arg(long, value_enum, default_value = "cpu")]
        backend: BackendKind,
        /// Also write the rows as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

fn write_json(path: &Option<PathBuf>, value: &impl serde::Serialize) -> Result<()> {
    if let Some(path) = path {
        let text = serde_json::to_string_pretty(value)?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::QuantDemo {
            args,
            backend,
            json,
        } => {
            let curves = dispatch!(backend, |B, device| quant_demo::run::<B>(&args, &device))?;
            print!("{}", quant_demo::report(&curves));
            write_json(
                &json,
                &serde_json::json!({ "args": args, "curves": curves }),
            )
        }
        Command::Train {
            target: TrainTarget::Image(args),
        } => train::image(&args),
        Command::Train {
            target: TrainTarget::Audio(args),
        } => train::audio(&args),
        Command::Manifest(args) => manifest::run(&args),
        Command::Reproduce {
            target: ReproduceTarget::Image(args),
        } => reproduce_image::image(&args),
        Command::Reproduce {
            target: ReproduceTarget::Audio(args),
        } => reproduce_audio::audio(&args),
        Command::Eval {
            target: EvalTarget::Image(args),
        } => eval_image::image(&args),
        Command::Eval {
            target: EvalTarget::Audio(args),
        } => eval_audio::audio(&args),
        Command::Bench {
            target: BenchTarget::Metrics { args, backend },
        } => {
            let report = dispatch!(backend, |B, device| bench_metrics::run::<B>(&args, &device))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Bench {
            target: BenchTarget::Image { args, backend },
        } => {
            let report = dispatch!(backend, |B, device| bench_image::run::<B>(&args, &device))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Bench {
            target: BenchTarget::Audio { args, backend },
        } => {
            let report = dispatch!(backend, |B, device| bench_audio::run::<B>(&args, &device))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Bench {
            target:
                BenchTarget::Speed {
                    args,
                    backend,
                    json,
                },
        } => {
            let cases = dispatch!(backend, |B, device| bench_speed::run::<B>(&args, &device))?;
            println!("{}", bench_speed::markdown(&cases));
            write_json(
                &json,
                &serde_json::json!({ "args": args, "backend": format!("{backend:?}"), "cases": cases }),
            )
        }
        Command::Bench {
            target: BenchTarget::AllReduce { args, json },
        } => {
            let rows = bench_all_reduce::run(&args)?;
            if args.node.is_some() {
                return Ok(());
            }
            println!("{}", bench_all_reduce::markdown(&rows));
            write_json(
                &json,
                &serde_json::json!({ "rounds": args.rounds, "rows": rows }),
            )
        }
        Command::Bench {
            target:
                BenchTarget::Quant {
                    args,
                    backend,
                    json,
                },
        } => {
            let rows = dispatch!(backend, |B, device| bench::run::<B>(&args, &device))?;
            println!("{}", bench::markdown(&rows));
            write_json(
                &json,
                &serde_json::json!({ "args": args, "backend": format!("{backend:?}"), "rows": rows }),
            )
        }
    }
}
