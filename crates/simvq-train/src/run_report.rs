//! What a run records as it goes (the loss curve, skipped files and batches) and the report
//! it ends with, `metrics.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::run_dir::io_error;

/// Averages over one logging window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Last step of the window (1-based count of steps done).
    pub step: usize,
    /// Mean of each loss over the window (unweighted terms; the generator objective is
    /// `generator`, the discriminator's `discriminator`).
    pub losses: BTreeMap<String, f64>,
    /// Codes used in this window's training batches ÷ K.
    pub utilization: f64,
    /// Perplexity of this window's codes.
    pub perplexity: f64,
    /// Training throughput (images or clips per second).
    pub examples_per_second: f64,
}

/// What a checkpoint stores besides the weights.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct TrainState {
    /// Steps done.
    pub step: usize,
    pub history: Vec<LogEntry>,
    pub skipped_files: Vec<String>,
    pub non_finite_skips: usize,
}

/// The outcome of a finished run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport<E> {
    /// Steps done.
    pub steps: usize,
    /// The loss curve (window averages).
    pub history: Vec<LogEntry>,
    /// Final evaluation with the EMA weights (absent when the run was stopped early).
    pub eval: Option<E>,
    /// Files that could not be read.
    pub skipped_files: Vec<String>,
    /// Batches whose update was skipped for a non-finite loss.
    pub non_finite_skips: usize,
    /// Wall time of this invocation.
    pub seconds: f64,
    /// The newest checkpoint.
    pub checkpoint: Option<PathBuf>,
}

/// The report of a run, written to `out/metrics.json` when it has an evaluation.
pub(crate) fn finish<E: Serialize>(
    state: TrainState,
    eval: Option<E>,
    started: Instant,
    checkpoint: Option<PathBuf>,
    out: &Path,
) -> Result<RunReport<E>> {
    let report = RunReport {
        steps: state.step,
        history: state.history,
        eval,
        skipped_files: state.skipped_files,
        non_finite_skips: state.non_finite_skips,
        seconds: started.elapsed().as_secs_f64(),
        checkpoint,
    };
    if report.eval.is_some() {
        let metrics = out.join("metrics.json");
        std::fs::write(
            &metrics,
            serde_json::to_string_pretty(&report).expect("serialisable"),
        )
        .map_err(io_error(&metrics))?;
    }
    Ok(report)
}
