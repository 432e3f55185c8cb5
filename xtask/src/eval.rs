//! What `cargo xtask eval image` and `eval audio` share: the options every evaluation takes,
//! finding the checkpoint of a run, the progress bar and the JSON file.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use simvq_quant::QuantizerConfig;
use simvq_train::RunCheckpoint;

use crate::backend::BackendKind;

/// Options of every `eval` command.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A run directory of `train` (its newest checkpoint is evaluated) or one of its
    /// checkpoints (RUN/checkpoints/step-N).
    #[arg(long)]
    pub ckpt: PathBuf,
    /// Only the first N images or utterances (0: all).
    #[arg(long, default_value_t = 0)]
    pub limit: usize,
    /// Save every original and reconstruction in this folder.
    #[arg(long)]
    pub save_recons: Option<PathBuf>,
    /// Where to write the results as JSON (default: eval.json in the run directory).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Compute backend.
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: BackendKind,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

impl EvalArgs {
    /// The run directory and checkpoint directory of `--ckpt`.
    pub fn locate(&self) -> Result<RunCheckpoint> {
        Ok(RunCheckpoint::locate(&self.ckpt)?)
    }

    /// `total` capped by `--limit`.
    pub fn count(&self, total: usize) -> usize {
        if self.limit > 0 {
            self.limit.min(total)
        } else {
            total
        }
    }

    /// A progress bar over `count` `unit`s with an ETA (hidden with `--no-progress`).
    pub fn progress(&self, count: usize, unit: &str) -> Result<ProgressBar> {
        let bar = if self.no_progress {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(count as u64)
        };
        bar.set_style(ProgressStyle::with_template(&format!(
            "{{bar:30}} {{pos}}/{{len}} {unit}  [{{elapsed_precise}} < {{eta_precise}}]"
        ))?);
        Ok(bar)
    }

    /// Writes `output` as pretty JSON to `--json` or `RUN/eval.json`, and says where.
    pub fn write_json(&self, run: &Path, output: &impl Serialize) -> Result<()> {
        let json = self.json.clone().unwrap_or_else(|| run.join("eval.json"));
        std::fs::write(&json, serde_json::to_string_pretty(output)?)
            .with_context(|| format!("writing {}", json.display()))?;
        println!("results: {}", json.display());
        Ok(())
    }
}

/// Refuses a run that trained a baseline quantizer (`reproduce`'s comparisons): `eval` loads
/// SimVQ models, and would otherwise fail deep inside the weight import.
pub fn refuse_baseline(
    run: &Path,
    baseline: Option<&QuantizerConfig>,
    command: &str,
) -> Result<()> {
    if let Some(baseline) = baseline {
        bail!(
            "{} trained a baseline quantizer ({baseline:?}), not SimVQ; `{command}` loads SimVQ \
             models. Its evaluation on the validation split is in the run's metrics.json (and \
             in reproduce's results.md)",
            run.display()
        );
    }
    Ok(())
}

/// A metric for a table cell: its value, or why it is missing.
pub fn cell(value: Option<f64>, format: impl Fn(f64) -> String) -> String {
    value.map_or_else(|| "not computed".into(), format)
}
