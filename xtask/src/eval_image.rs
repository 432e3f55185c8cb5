//! `cargo xtask eval image`: the reference's image evaluation protocol on a trained run — EMA
//! weights, validation images resized and center-cropped, batches of 64 in order,
//! reconstructions clamped to `[-1, 1]` — printed as a Table 1 row and written as JSON.

use std::path::{Path, PathBuf};

use anyhow::Result;
use burn::tensor::backend::{AutodiffBackend, Backend};
use clap::Args;
use indicatif::ProgressBar;
use serde::Serialize;
use simvq_data::{demo_images_dir, Augment, Crop, FileList, ImageLoader, ImageTransform};
use simvq_metrics::{FidInception, Lpips, LpipsNet};
use simvq_train::{
    evaluate_images, load_config, save_png_pairs, ImageEvalNetworks, ImageEvalReport,
    ImageTrainConfig, RunCheckpoint,
};

use crate::backend::dispatch;
use crate::eval::{cell, refuse_baseline, EvalArgs};

/// Arguments of `eval image`.
#[derive(Debug, Args)]
pub struct ImageEvalArgs {
    #[command(flatten)]
    common: EvalArgs,
    /// Validation images: ImageNet's root (its val/ is used) or any folder tree of images.
    /// Default: the demo photos.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Images per batch. The reference's PSNR is one value per batch of its batch size 64.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// LPIPS-Alex weights: the torchvision AlexNet file (alexnet-owt-7be5be79.pth) and the
    /// LPIPS v0.1 heads (alex.pth).
    #[arg(long, num_args = 2, value_names = ["BACKBONE", "HEADS"])]
    lpips_alex: Option<Vec<PathBuf>>,
    /// LPIPS-VGG weights: the torchvision VGG16 file (vgg16-397923af.pth) and the LPIPS v0.1
    /// heads (vgg.pth).
    #[arg(long, num_args = 2, value_names = ["BACKBONE", "HEADS"])]
    lpips_vgg: Option<Vec<PathBuf>>,
    /// pytorch-fid's Inception weights (pt_inception-2015-12-05-6726825d.pth), for rFID.
    #[arg(long)]
    inception: Option<PathBuf>,
}

/// What `eval image` writes.
#[derive(Debug, Serialize)]
struct ImageEvalOutput {
    checkpoint: PathBuf,
    data: PathBuf,
    batch_size: usize,
    metrics: ImageEvalReport,
}

/// The validation folder of `--data`.
fn validation_folder(data: Option<&Path>) -> PathBuf {
    let root = data.map_or_else(demo_images_dir, Path::to_path_buf);
    let val = root.join("val");
    if val.is_dir() {
        val
    } else {
        root
    }
}

/// Runs `eval image`.
pub fn image(args: &ImageEvalArgs) -> Result<()> {
    let common = &args.common;
    let located = common.locate()?;
    let config = load_config(
        &located.run.join("config.toml"),
        &ImageTrainConfig::reference(65_536),
    )?;
    refuse_baseline(&located.run, config.baseline.as_ref(), "eval image")?;
    let source = validation_folder(args.data.as_deref());
    let files = FileList::images(&source)?;
    let count = common.count(files.len());
    let loader = ImageLoader::new(
        files,
        ImageTransform {
            size: config.data.image_size,
            crop: Crop::Center,
            augment: Augment::None,
        },
        args.batch_size,
        false,
        0,
    )?;
    eprintln!(
        "evaluating {} on {count} images of {} at {}²",
        located.checkpoint.display(),
        source.display(),
        config.data.image_size
    );
    let bar = common.progress(count, "images")?;
    let metrics = dispatch!(common.backend, |B, device| {
        evaluate::<B>(&config, &located, &loader, args, &bar, &device)
    })?;
    bar.finish_and_clear();
    let m = &metrics;
    println!("| utilization | rFID | LPIPS (alex / vgg) | PSNR | SSIM |");
    println!("|---|---|---|---|---|");
    println!(
        "| {:.1}% | {} | {} / {} | {:.2} | {:.1} |",
        100.0 * m.utilization,
        cell(m.rfid, |v| format!("{v:.2}")),
        cell(m.lpips_alex, |v| format!("{v:.4}")),
        cell(m.lpips_vgg, |v| format!("{v:.4}")),
        m.psnr,
        100.0 * m.ssim
    );
    println!(
        "{} images, perplexity {:.0}, per-image PSNR {:.2}",
        m.images, m.perplexity, m.psnr_per_image
    );
    if m.rfid.is_none() || m.lpips_alex.is_none() || m.lpips_vgg.is_none() {
        println!(
            "rFID and LPIPS need weight files: --inception, --lpips-alex, --lpips-vgg \
             (see `cargo xtask eval image --help`)"
        );
    }
    let output = ImageEvalOutput {
        checkpoint: located.checkpoint.clone(),
        data: source,
        batch_size: args.batch_size,
        metrics,
    };
    common.write_json(&located.run, &output)
}

/// The perceptual networks whose weight files were given.
fn load_networks<B: Backend>(
    args: &ImageEvalArgs,
    device: &B::Device,
) -> Result<ImageEvalNetworks<B>> {
    let mut networks = ImageEvalNetworks::default();
    for (net, files) in [
        (LpipsNet::Alex, &args.lpips_alex),
        (LpipsNet::Vgg, &args.lpips_vgg),
    ] {
        if let Some(files) = files {
            networks
                .lpips
                .push(Lpips::load(net, &files[0], &files[1], device)?);
        }
    }
    if let Some(path) = &args.inception {
        networks.inception = Some(FidInception::load(path, device)?);
    }
    Ok(networks)
}

fn evaluate<B: AutodiffBackend>(
    config: &ImageTrainConfig,
    located: &RunCheckpoint,
    loader: &ImageLoader,
    args: &ImageEvalArgs,
    bar: &ProgressBar,
    device: &B::Device,
) -> Result<ImageEvalReport> {
    let model =
        located.load_weights(config.model.init::<B::InnerBackend>(device)?, "ema", device)?;
    let networks = load_networks::<B::InnerBackend>(args, device)?;
    let mut saved = 0;
    let (report, _) = evaluate_images(
        &model,
        loader,
        args.common.limit,
        0,
        &networks,
        device,
        |x, recon| {
            let batch = x.dims()[0];
            if let Some(dir) = &args.common.save_recons {
                save_png_pairs(x, recon, saved, dir)?;
            }
            saved += batch;
            bar.inc(batch as u64);
            Ok(())
        },
    )?;
    Ok(report)
}
