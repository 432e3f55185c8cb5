//! `cargo xtask reproduce image|audio`: a table of the paper under one budget. SimVQ at
//! several codebook sizes and the baselines trained one after another on the same data with
//! the same autoencoder, optimizer, seed and steps, each evaluated on the validation split,
//! then one table (markdown and JSON) and one plot. What the two share is here; what differs
//! is a [`Comparison`] (`reproduce_image.rs`, `reproduce_audio.rs`).
//!
//! Each method is an ordinary training run in its own folder under `--out` (config,
//! checkpoints, `metrics.json`, samples); a finished one leaves `result.json`, so a reproduce
//! that was stopped continues where it stopped (a half-trained method resumes from its
//! checkpoint).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use serde::Serialize;
use simvq_train::{NonFinitePolicy, RunOptions, RunReport, ScheduleSettings, SplitEval};

use crate::backend::BackendKind;
use crate::reproduce_methods::{fsq_size, Method, Modality};
use crate::reproduce_report::{write_report, EvalColumns, MethodResult, ReproduceReport};

/// Arguments of `reproduce image` and `reproduce audio`.
#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// `cpu`: the CPU demo's narrow model on the built-in data (minutes per method on two
    /// cores). `paper`: the reference model and schedule on `--data`, for GPUs (images:
    /// `imagenet_simvq_128_B` on ImageNet's root with train/ and val/; audio: `libritts_24khz`
    /// on LibriTTS manifests train.txt and dev.txt, or folders train/ and val/).
    #[arg(long, value_enum, default_value = "cpu")]
    pub scale: Scale,
    /// The data: a root with train/ and val/ (audio: or train.txt and dev.txt). Default: the
    /// built-in photos or speech.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The SimVQ run every method is derived from, layered over the scale's (cpu: the demo's
    /// config; paper: configs/imagenet_simvq_128_B.toml, whose `[lpips]` names the LPIPS
    /// weight files, or configs/libritts_24khz.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Methods to train (default: all the modality has; at paper scale all but `simvq`, this
    /// project's data-init recipe, since the paper's SimVQ is `simvq-reference-init`).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub methods: Option<Vec<Method>>,
    /// SimVQ's codebook sizes (default: images cpu 64,512,4096, paper 1024,8192,65536,262144;
    /// audio cpu 512,4096, paper 4096,8192,65536,262144).
    #[arg(long, value_delimiter = ',')]
    pub sizes: Option<Vec<usize>>,
    /// The baselines' codebook size (default: cpu 512; paper: images 65,536, FSQ then using
    /// 64,000; audio 4,096, WavTokenizer's).
    #[arg(long)]
    pub baseline_size: Option<usize>,
    /// Training steps of every method (default: cpu images 300, audio 200; paper the
    /// reference's schedule).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Validation images or utterances evaluated (0 = all).
    #[arg(long, visible_alias = "eval-images", default_value_t = 0)]
    pub eval_examples: usize,
    /// Folder of the runs and of `results.md`, `results.json`, `curves.png` (default:
    /// runs/reproduce_image or runs/reproduce_audio).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Compute backend.
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: BackendKind,
    /// No progress bars (log lines only).
    #[arg(long)]
    pub no_progress: bool,
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

/// What differs between `reproduce image` and `reproduce audio`: the data, the runs and the
/// report's words.
pub trait Comparison {
    /// A method's evaluation on one split.
    type Eval: EvalColumns;
    /// Images or audio.
    const MODALITY: Modality;
    /// The reconstruction loss's name in a run's history, and its name on the plot.
    const RECONSTRUCTION: (&'static str, &'static str);

    /// Steps every method trains.
    fn steps(&self) -> usize;

    /// Trains `method` with `k` codes as `options` say (resuming a run that was stopped).
    fn train(
        &self,
        method: Method,
        k: usize,
        options: &RunOptions,
    ) -> Result<RunReport<SplitEval<Self::Eval>>>;

    /// How the numbers were made, in words, `examples` validation examples evaluated.
    fn protocol(&self, examples: usize) -> String;
}

/// Trains and reports every method of `args` for `comparison`, on the `train` and `val`
/// splits, into `out`.
pub fn run<C: Comparison>(
    args: &ReproduceArgs,
    comparison: &C,
    (train, val): (&Path, &Path),
    out: &Path,
) -> Result<()> {
    if train == val {
        bail!(
            "{} has no validation split: the comparison is measured on held-out data, so give \
             it train/ and val/ (audio: or train.txt and dev.txt)",
            train.display()
        );
    }
    let plan = plan(args, C::MODALITY);
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut results = Vec::with_capacity(plan.len());
    for (i, &(method, k)) in plan.iter().enumerate() {
        let label = method.label(C::MODALITY);
        eprintln!("[{}/{}] {label} with {k} codes", i + 1, plan.len());
        let out_dir = out.join(method.slug(k));
        let saved = out_dir.join("result.json");
        if saved.is_file() {
            eprintln!("  finished earlier: {}", saved.display());
            results.push(MethodResult::read(&saved)?);
            continue;
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
        let report = comparison
            .train(method, k, &options)
            .with_context(|| format!("training {label} with {k} codes"))?;
        let result = MethodResult::new(
            (method, label, k),
            comparison.steps(),
            &report,
            C::RECONSTRUCTION.0,
        )?;
        result.write(&saved)?;
        results.push(result);
    }
    let examples = results.first().map_or(0, |r| r.validation.examples());
    let report = ReproduceReport::new(
        args.scale,
        comparison.protocol(examples),
        C::RECONSTRUCTION.1,
        results,
    );
    write_report(&report, out)?;
    print!("{}", report.markdown());
    Ok(())
}

/// `schedule` made fit for a comparison of `steps` steps (`--steps` when given): about
/// fifteen curve points in windows of equal length (a short last window would use fewer codes
/// for having fewer tokens), three checkpoints, the codebook refit (where there is one) over
/// the whole run, `eval_examples` validation examples, and a non-finite loss skipping its
/// step instead of stopping the run: a method that diverges is a result of the comparison
/// (its skipped steps are in the table), not a reason to end it.
pub fn comparison_schedule(
    schedule: &mut ScheduleSettings,
    steps: Option<usize>,
    eval_examples: usize,
) -> Result<()> {
    if let Some(steps) = steps {
        schedule.steps = steps;
    }
    let steps = schedule.steps;
    if steps == 0 {
        bail!("--steps must be at least 1");
    }
    schedule.log_every = (1..=(steps / 15).max(1))
        .rev()
        .find(|w| steps.is_multiple_of(*w))
        .unwrap_or(1);
    schedule.checkpoint_every = (steps / 3).max(1);
    if schedule.codebook_refit_steps > 0 {
        schedule.codebook_refit_steps = steps;
    }
    schedule.eval_examples = eval_examples;
    schedule.on_non_finite = NonFinitePolicy::Skip;
    Ok(())
}

/// Which weights were evaluated, in words.
pub fn ema_words(decay: f64) -> String {
    if decay == 0.0 {
        "the last step's weights".to_owned()
    } else {
        format!("the EMA weights (decay {decay})")
    }
}

/// The workspace's `configs/` folder.
pub fn configs_dir() -> PathBuf {
    simvq_data::checkout_path(
        "configs",
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs"),
    )
}

/// (method, codebook size) of every run, in table order.
fn plan(args: &ReproduceArgs, modality: Modality) -> Vec<(Method, usize)> {
    let (sizes, baseline) = match (modality, args.scale) {
        (Modality::Image, Scale::Cpu) => (vec![64, 512, 4_096], 512),
        (Modality::Image, Scale::Paper) => (vec![1_024, 8_192, 65_536, 262_144], 65_536),
        (Modality::Audio, Scale::Cpu) => (vec![512, 4_096], 512),
        (Modality::Audio, Scale::Paper) => (vec![4_096, 8_192, 65_536, 262_144], 4_096),
    };
    let sizes = args.sizes.clone().unwrap_or(sizes);
    let baseline = args.baseline_size.unwrap_or(baseline);
    let methods = args.methods.clone().unwrap_or_else(|| {
        Method::ALL
            .into_iter()
            .filter(|&m| args.scale == Scale::Cpu || m != Method::Simvq)
            .filter(|&m| modality == Modality::Image || m != Method::VqganLc)
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
