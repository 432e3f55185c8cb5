//! Training the image tokenizer: the VQGAN step ([`ImageTask`]) run by the shared GAN loop,
//! then an evaluation of the EMA weights on both splits and a PNG grid.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::backend::AutodiffBackend;
use indicatif::ProgressBar;
use simvq_data::{FileList, ImageLoader};
use simvq_image::ImageTokenizer;
use simvq_metrics::{Lpips, LpipsNet};
use simvq_quant::{Quantizer, SeededInit};

use crate::error::{Result, TrainError};
use crate::gan_loop::{run_gan, LoopSettings, RunContext, RunOptions};
use crate::image_config::ImageTrainConfig;
use crate::image_report::{evaluate_images, save_grid, ImageEvalNetworks, ImageEvalReport};
use crate::image_task::ImageTask;
use crate::progress::{progress_bar, say};
use crate::run_dir::prepare_run_dir;
use crate::run_report::RunReport;
use crate::split_eval::SplitEval;
use crate::trainable_quantizer::TrainableQuantizer;

/// The outcome of an image run.
pub type ImageRunReport = RunReport<SplitEval<ImageEvalReport>>;

/// Trains the image tokenizer of `config` on `device`, writing everything under
/// `options.out_dir`: `config.toml`, checkpoints, and at the end `metrics.json` and
/// `reconstructions.png` from the EMA weights.
pub fn train_image<B: AutodiffBackend>(
    config: &ImageTrainConfig,
    options: &RunOptions,
    device: &B::Device,
) -> Result<ImageRunReport> {
    match &config.baseline {
        None => train_with::<B, _>(config, options, device, |init| {
            Ok(config.model.quantizer.init(init.device())?)
        }),
        Some(baseline) => train_with::<B, _>(config, options, device, |init| {
            Ok(baseline.init(init.device())?)
        }),
    }
}

/// [`train_image`] with the tokenizer's quantizer built by `quantizer`.
fn train_with<B: AutodiffBackend, Q: TrainableQuantizer<B>>(
    config: &ImageTrainConfig,
    options: &RunOptions,
    device: &B::Device,
    quantizer: impl FnOnce(&SeededInit<B>) -> Result<Q>,
) -> Result<ImageRunReport> {
    let started = Instant::now();
    prepare_run_dir(options, config)?;

    let (rank, nodes) = options.shard();
    let train = Arc::new(
        ImageLoader::new(
            FileList::images(&options.train)?,
            config.data.train_transform(),
            config.data.batch_size,
            true,
            config.data.seed,
        )?
        .with_shard(rank, nodes)?,
    );
    let val = eval_loader(config, FileList::images(&options.val)?)?;

    let bar = progress_bar(config.schedule.steps, options.progress);
    let task = ImageTask::<B, Q>::new(config, load_lpips::<B>(config, device, &bar)?);
    let context = RunContext {
        options,
        bar: &bar,
        device,
        started,
    };
    run_gan(
        &task,
        |init| {
            Ok((
                config.model.init_seeded_with(init, quantizer(init)?)?,
                config.discriminator.init_seeded(init),
            ))
        },
        train,
        &LoopSettings {
            schedule: &config.schedule,
            optimizer: &config.optimizer,
            codebook_size: config.codebook_size(),
            seed: config.seed,
        },
        context,
        |ema| evaluate_both_splits::<B, _>(config, options, ema, &val, device),
    )
}

/// The EMA weights on the validation images (saving a grid of them) and on as many training
/// images, spread over the training folder.
fn evaluate_both_splits<
    B: AutodiffBackend,
    Q: Module<B::InnerBackend> + Quantizer<B::InnerBackend>,
>(
    config: &ImageTrainConfig,
    options: &RunOptions,
    ema: &ImageTokenizer<B::InnerBackend, Q>,
    val: &ImageLoader,
    device: &B::Device,
) -> Result<SplitEval<ImageEvalReport>> {
    let (validation, pairs) = evaluate_images(
        ema,
        val,
        config.schedule.eval_examples,
        config.schedule.saved_examples,
        &ImageEvalNetworks::default(),
        device,
        |_, _| Ok(()),
    )?;
    save_grid(&pairs, &options.out_dir.join("reconstructions.png"))?;
    // As many training images, spread over the sorted list (`FileList::evenly_spaced`).
    let train_files = eval_loader(
        config,
        FileList::images(&options.train)?.evenly_spaced(validation.images),
    )?;
    let (training, _) = evaluate_images(
        ema,
        &train_files,
        validation.images,
        0,
        &ImageEvalNetworks::default(),
        device,
        |_, _| Ok(()),
    )?;
    let size = config.data.eval_size.unwrap_or(config.data.image_size);
    let protocol = format!(
        "end-of-training check, not the Table 1 protocol of `cargo xtask eval image`: EMA \
         weights; images resized (shorter side) and centre-cropped to {size}², batches of {}, \
         reconstructions clamped; utilization over these images' tokens; PSNR/SSIM as the \
         reference computes them; no LPIPS or rFID",
        config.data.batch_size
    );
    Ok(SplitEval::new(protocol, options, validation, training))
}

/// `files` in order, as the final evaluation sees them.
fn eval_loader(config: &ImageTrainConfig, files: FileList) -> Result<ImageLoader> {
    Ok(ImageLoader::new(
        files,
        config.data.eval_transform(),
        config.data.batch_size,
        false,
        config.data.seed,
    )?)
}

/// LPIPS when the config weights it, from the configured files; a loud warning otherwise.
fn load_lpips<B: AutodiffBackend>(
    config: &ImageTrainConfig,
    device: &B::Device,
    bar: &ProgressBar,
) -> Result<Option<Lpips<B>>> {
    if config.loss.perceptual_weight <= 0.0 {
        say(
            bar,
            "WARNING: training WITHOUT the LPIPS perceptual loss (loss.perceptual_weight = 0). \
             Reconstructions will be blurrier than the reference's. To use it, set \
             loss.perceptual_weight = 1.0 and lpips.backbone / lpips.heads.",
        );
        return Ok(None);
    }
    let missing = |what: &str| {
        TrainError::Image(simvq_image::ImageError::InvalidConfig(format!(
            "loss.perceptual_weight > 0 but lpips.{what} is not set. {}",
            LpipsNet::Vgg.weights_help()
        )))
    };
    let backbone = config
        .lpips
        .backbone
        .as_ref()
        .ok_or_else(|| missing("backbone"))?;
    let heads = config
        .lpips
        .heads
        .as_ref()
        .ok_or_else(|| missing("heads"))?;
    Ok(Some(Lpips::load(
        LpipsNet::Vgg,
        Path::new(backbone),
        Path::new(heads),
        device,
    )?))
}
