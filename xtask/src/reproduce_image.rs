//! `cargo xtask reproduce image`: Table 1 under one budget. SimVQ at several codebook sizes
//! and the baselines (VQGAN, VQGAN-FC, FSQ, LFQ, a VQGAN-LC-style frozen codebook) on the
//! same photos with the same autoencoder.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use simvq_data::{demo_images_dir, Augment, Crop, FileList, ImageLoader, ImageTransform};
use simvq_train::{
    load_config, train_image, ImageEvalReport, ImageRunReport, ImageTrainConfig, LrDecay,
    RunOptions, TrainAugment,
};

use crate::backend::{dispatch, BackendKind};
use crate::reproduce::{
    comparison_schedule, configs_dir, ema_words, run, Comparison, ReproduceArgs, Scale,
};
use crate::reproduce_methods::{Method, Modality};
use crate::reproduce_report::write_atomic;
use crate::train::split_folders;

/// Runs `reproduce image`.
pub fn image(args: &ReproduceArgs) -> Result<()> {
    let root = match (&args.data, args.scale) {
        (Some(root), _) => root.clone(),
        (None, Scale::Cpu) => demo_images_dir(),
        (None, Scale::Paper) => {
            bail!("--scale paper trains on ImageNet: pass --data with its root (train/ and val/)")
        }
    };
    let (train, val) = split_folders(&root);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs/reproduce_image"));
    let comparison = ImageComparison {
        base: base_config(args)?,
        train: train.clone(),
        val: val.clone(),
        out: out.clone(),
        backend: args.backend,
    };
    run(args, &comparison, (&train, &val), &out)
}

/// The image tokenizers of one comparison.
struct ImageComparison {
    /// The SimVQ run every method is derived from.
    base: ImageTrainConfig,
    train: PathBuf,
    val: PathBuf,
    /// Where VQGAN-LC's frozen codebooks are written.
    out: PathBuf,
    backend: BackendKind,
}

impl Comparison for ImageComparison {
    type Eval = ImageEvalReport;
    const MODALITY: Modality = Modality::Image;
    const RECONSTRUCTION: (&'static str, &'static str) = ("l1", "L1 reconstruction loss");

    fn steps(&self) -> usize {
        self.base.schedule.steps
    }

    fn train(&self, method: Method, k: usize, options: &RunOptions) -> Result<ImageRunReport> {
        // Per K: another --baseline-size needs another codebook.
        let features = self.out.join(format!("vqgan_lc_codebook-{k}.safetensors"));
        if method == Method::VqganLc && !features.is_file() {
            write_patch_codebook(&self.base, &self.train, k, &features)?;
        }
        let config = method.image_config(&self.base, k, &features)?;
        dispatch!(self.backend, |B, device| {
            train_image::<B>(&config, options, &device).map_err(anyhow::Error::from)
        })
    }

    fn protocol(&self, examples: usize) -> String {
        let base = &self.base;
        let size = base.data.eval_size.unwrap_or(base.data.image_size);
        format!(
            "every method: the same autoencoder (z = {} channels, f{}), data, optimizer \
             (lr {}), seed and {} steps of batch {}; {examples} evaluated on the validation \
             split {} (never trained on), images resized and centre-cropped to {size}², \
             reconstructions clamped; utilization = codes used over all evaluated tokens ÷ K; \
             PSNR per batch as the reference computes it; SSIM ×100; {}. rFID and LPIPS need \
             their weight files and are not computed here",
            base.model.autoencoder.z_channels,
            base.model.autoencoder.downsample_factor(),
            base.optimizer.learning_rate,
            base.schedule.steps,
            base.data.batch_size,
            self.val.display(),
            ema_words(base.schedule.ema_decay),
        )
    }
}

/// The scale's SimVQ config with the arguments' steps.
fn base_config(args: &ReproduceArgs) -> Result<ImageTrainConfig> {
    let mut config = match args.scale {
        Scale::Cpu => {
            // The demo's model and data at 300 steps, with the optimizer, crops and refit
            // that docs/results.md was measured with (constant lr 4e-4, no flips, full
            // refits): the demo's own are tuned for its length, not this comparison's.
            let mut demo = ImageTrainConfig::demo();
            demo.schedule.steps = 300;
            demo.optimizer.learning_rate = 4e-4;
            demo.optimizer.decay = LrDecay::Constant;
            demo.data.augment = TrainAugment::None;
            demo.schedule.codebook_refit_rate = 1.0;
            demo
        }
        Scale::Paper => load_config(
            &configs_dir().join("imagenet_simvq_128_B.toml"),
            &ImageTrainConfig::reference(65_536),
        )?,
    };
    if let Some(path) = &args.config {
        config = load_config(path, &config)?;
    }
    comparison_schedule(&mut config.schedule, args.steps, args.eval_examples)?;
    Ok(config)
}

/// VQGAN-LC's frozen codebook, the CPU way: `k` random `f×f` pixel patches of the training
/// images (`f` the tokenizer's downsampling), one row each, as the single tensor of a
/// safetensors file. VQGAN-LC clusters a pretrained encoder's features instead; the point
/// kept is a frozen codebook drawn from the data, with only a projector learned.
fn write_patch_codebook(
    config: &ImageTrainConfig,
    train: &Path,
    k: usize,
    path: &Path,
) -> Result<()> {
    let f = config.model.autoencoder.downsample_factor();
    let files = FileList::images(train)?;
    let batch_size = files.len().min(k);
    let loader = ImageLoader::new(
        files,
        ImageTransform {
            size: f as u32,
            crop: Crop::RandomPatch,
            augment: Augment::None,
        },
        batch_size,
        true,
        config.data.seed,
    )?;
    let width = 3 * f * f;
    let mut rows: Vec<f32> = Vec::with_capacity(k * width);
    // Batches in order, epoch after epoch, until there are k patches: no more decoding than
    // that (at paper scale an epoch is 1.28 M images for 65,536 rows).
    let per_epoch = loader.batches_per_epoch();
    for at in 0.. {
        if rows.len() >= k * width {
            break;
        }
        if at >= 10 * per_epoch.max(1) * k.div_ceil(batch_size) {
            bail!("{} gave too few readable image patches", train.display());
        }
        let (epoch, index) = ((at / per_epoch) as u64, at % per_epoch);
        rows.extend(loader.batch(epoch, index)?.pixels);
    }
    rows.truncate(k * width);
    let bytes: Vec<u8> = rows.iter().flat_map(|v| v.to_le_bytes()).collect();
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![k, width], &bytes)
            .context("codebook tensor")?;
    let file = safetensors::serialize([("codebook", view)], None).context("codebook file")?;
    write_atomic(path, &file)
}
