//! `cargo xtask reproduce image`: Table 1 under one budget. SimVQ at several codebook sizes
//! and the baselines (VQGAN, VQGAN-FC, FSQ, LFQ, a VQGAN-LC-style frozen codebook) trained
//! one after another on the same data with the same autoencoder, optimizer, seed and steps,
//! each evaluated on the validation split, then one table (markdown and JSON) and one plot.
//!
//! Each method is an ordinary training run in its own folder under `--out` (config,
//! checkpoints, `metrics.json`, `reconstructions.png`); a finished one leaves `result.json`,
//! so a reproduce that was stopped continues where it stopped (a half-trained method resumes
//! from its checkpoint).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use serde::Serialize;
use simvq_data::{demo_images_dir, Augment, Crop, FileList, ImageLoader, ImageTransform};
use simvq_train::{load_config, train_image, ImageTrainConfig, LrDecay, RunOptions, TrainAugment};

use crate::backend::{dispatch, BackendKind};
use crate::reproduce_methods::{fsq_size, Method};
use crate::reproduce_report::{write_atomic, write_report, MethodResult, ReproduceReport};
use crate::train::split_folders;

/// Arguments of `reproduce image`.
#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// `cpu`: the demo's narrow f4 model on the built-in photos (minutes per method on two
    /// cores). `paper`: the reference model and schedule (`imagenet_simvq_128_B`, 128², f8)
    /// on `--data` (ImageNet's root with train/ and val/), for GPUs.
    #[arg(long, value_enum, default_value = "cpu")]
    scale: Scale,
    /// Images: a root with train/ and val/ (default: the built-in photos).
    #[arg(long)]
    data: Option<PathBuf>,
    /// The SimVQ run every method is derived from, layered over the scale's (cpu: the demo,
    /// configs/demo_image.toml; paper: configs/imagenet_simvq_128_B.toml, whose `[lpips]`
    /// names the LPIPS weight files).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Methods to train (default: all; at paper scale all but `simvq`, this project's
    /// data-init recipe, since the paper's SimVQ is `simvq-reference-init`).
    #[arg(long, value_enum, value_delimiter = ',')]
    methods: Option<Vec<Method>>,
    /// SimVQ's codebook sizes (default: cpu 64,512,4096; paper 1024,8192,65536,262144).
    #[arg(long, value_delimiter = ',')]
    sizes: Option<Vec<usize>>,
    /// The baselines' codebook size (default: cpu 512, paper 65,536; FSQ then uses 64,000).
    #[arg(long)]
    baseline_size: Option<usize>,
    /// Training steps of every method (default: cpu 300, paper the reference's schedule).
    #[arg(long)]
    steps: Option<usize>,
    /// Validation images evaluated (0 = all).
    #[arg(long, default_value_t = 0)]
    eval_images: usize,
    /// Folder of the runs and of `results.md`, `results.json`, `curves.png`.
    #[arg(long, default_value = "runs/reproduce_image")]
    out: PathBuf,
    /// Compute backend.
    #[arg(long, value_enum, default_value = "cpu")]
    backend: BackendKind,
    /// No progress bars (log lines only).
    #[arg(long)]
    no_progress: bool,
}

/// How big the comparison is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// The CPU demo's model and data.
    Cpu,
    /// The paper's model, schedule and data.
    Paper,
}

/// Runs `reproduce image`.
pub fn image(args: &ReproduceArgs) -> Result<()> {
    let base = base_config(args)?;
    let root = match (&args.data, args.scale) {
        (Some(root), _) => root.clone(),
        (None, Scale::Cpu) => demo_images_dir(),
        (None, Scale::Paper) => {
            bail!("--scale paper trains on ImageNet: pass --data with its root (train/ and val/)")
        }
    };
    let (train, val) = split_folders(&root);
    if train == val {
        bail!(
            "{} has no val/ folder: the comparison is measured on held-out images, so give it \
             train/ and val/",
            root.display()
        );
    }
    let plan = plan(args);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut results = Vec::with_capacity(plan.len());
    for (i, &(method, k)) in plan.iter().enumerate() {
        eprintln!(
            "[{}/{}] {} with {k} codes",
            i + 1,
            plan.len(),
            method.label()
        );
        // Per K: another --baseline-size needs another codebook.
        let features = args.out.join(format!("vqgan_lc_codebook-{k}.safetensors"));
        if method == Method::VqganLc && !features.is_file() {
            write_patch_codebook(&base, &train, k, &features)?;
        }
        let config = method.config(&base, k, &features)?;
        results.push(run_method(args, method, k, &config, (&train, &val))?);
    }
    let report = ReproduceReport::new(args.scale, &base, &val, results);
    write_report(&report, &args.out)?;
    print!("{}", report.markdown());
    Ok(())
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
    if let Some(steps) = args.steps {
        config.schedule.steps = steps;
    }
    let steps = config.schedule.steps;
    if steps == 0 {
        bail!("--steps must be at least 1");
    }
    // About fifteen points per curve, in windows of equal length (a short last window would
    // use fewer codes for having fewer tokens); the demo's refit lasts the whole run.
    config.schedule.log_every = (1..=(steps / 15).max(1))
        .rev()
        .find(|w| steps.is_multiple_of(*w))
        .unwrap_or(1);
    config.schedule.checkpoint_every = (steps / 3).max(1);
    if config.schedule.codebook_refit_steps > 0 {
        config.schedule.codebook_refit_steps = steps;
    }
    config.schedule.eval_examples = args.eval_images;
    Ok(config)
}

/// The workspace's `configs/` folder.
fn configs_dir() -> PathBuf {
    simvq_data::checkout_path(
        "configs",
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs"),
    )
}

/// (method, codebook size) of every run, in table order.
fn plan(args: &ReproduceArgs) -> Vec<(Method, usize)> {
    let (sizes, baseline) = match args.scale {
        Scale::Cpu => (vec![64, 512, 4_096], 512),
        Scale::Paper => (vec![1_024, 8_192, 65_536, 262_144], 65_536),
    };
    let sizes = args.sizes.clone().unwrap_or(sizes);
    let baseline = args.baseline_size.unwrap_or(baseline);
    let methods = args.methods.clone().unwrap_or_else(|| {
        Method::ALL
            .into_iter()
            .filter(|&m| args.scale == Scale::Cpu || m != Method::Simvq)
            .collect()
    });
    let mut plan = Vec::new();
    for method in methods {
        if method.sweeps_sizes() {
            plan.extend(sizes.iter().map(|&k| (method, k)));
        } else if method == Method::Fsq {
            plan.push((method, fsq_size(baseline)));
        } else {
            plan.push((method, baseline));
        }
    }
    plan
}

/// Trains one method (or reads the result of its finished run) in `--out/<method>-<K>`.
fn run_method(
    args: &ReproduceArgs,
    method: Method,
    k: usize,
    config: &ImageTrainConfig,
    (train, val): (&Path, &Path),
) -> Result<MethodResult> {
    let out_dir = args.out.join(method.slug(k));
    let saved = out_dir.join("result.json");
    if saved.is_file() {
        eprintln!("  finished earlier: {}", saved.display());
        return MethodResult::read(&saved);
    }
    let options = RunOptions {
        train: train.to_path_buf(),
        val: val.to_path_buf(),
        resume: out_dir.is_dir(),
        out_dir,
        stop_after: None,
        progress: !args.no_progress,
        devices: 1,
        nodes: None,
    };
    let report = dispatch!(args.backend, |B, device| {
        train_image::<B>(config, &options, &device).map_err(anyhow::Error::from)
    })
    .with_context(|| format!("training {} with {k} codes", method.label()))?;
    let result = MethodResult::new(method, k, config, &report)?;
    result.write(&saved)?;
    Ok(result)
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
