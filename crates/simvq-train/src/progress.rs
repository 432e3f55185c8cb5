//! What a run shows while it trains: the progress bar with its ETA, log lines above it (or on
//! stderr when it is hidden), and the window averages each log line reports.

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use simvq_quant::CodebookUsage;

use crate::loss_record::TermSums;
use crate::run_report::LogEntry;

/// The run's progress bar (hidden when `visible` is false).
pub(crate) fn progress_bar(steps: usize, visible: bool) -> ProgressBar {
    let bar = if visible {
        ProgressBar::new(steps as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {pos}/{len} steps  {msg}  [{elapsed_precise} < {eta_precise}]",
        )
        .expect("valid template"),
    );
    bar
}

/// A log line: above the bar when it is drawn, on stderr when it is hidden.
pub(crate) fn say(bar: &ProgressBar, line: impl AsRef<str>) {
    if bar.is_hidden() {
        eprintln!("{}", line.as_ref());
    } else {
        bar.println(line);
    }
}

/// Sums over a logging window.
#[derive(Default)]
pub(crate) struct Window {
    losses: TermSums,
    steps: usize,
    examples: usize,
    started: Option<Instant>,
}

impl Window {
    /// Starts the clock at the first step of a window.
    pub(crate) fn begin(&mut self) {
        self.started.get_or_insert_with(Instant::now);
    }

    /// No step was added since the window opened.
    pub(crate) fn is_empty(&self) -> bool {
        self.steps == 0
    }

    /// Adds a finished step: its losses (over the whole batch) and its examples.
    pub(crate) fn add(&mut self, losses: &TermSums, examples: usize) {
        self.losses.add(losses.means(1), 1.0);
        self.steps += 1;
        self.examples += examples;
    }

    /// The window's averages as the log entry of step `step` of `steps`, with its log line
    /// (the losses in the task's order, throughput in `unit`s); the window starts afresh.
    pub(crate) fn close(
        &mut self,
        step: usize,
        steps: usize,
        usage: &CodebookUsage,
        unit: &str,
    ) -> (LogEntry, String) {
        let secs = self.started.map_or(0.0, |t| t.elapsed().as_secs_f64());
        let means: Vec<_> = self.losses.means(self.steps).collect();
        let entry = LogEntry {
            step,
            losses: means
                .iter()
                .map(|&(name, mean)| (name.to_string(), mean))
                .collect(),
            utilization: usage.utilization(),
            perplexity: usage.perplexity(),
            examples_per_second: if secs > 0.0 {
                self.examples as f64 / secs
            } else {
                0.0
            },
        };
        let losses: Vec<String> = means
            .iter()
            .map(|(name, mean)| format!("{name} {mean:.4}"))
            .collect();
        let line = format!(
            "step {step:>7}/{steps}  {}  util {:.1}%  ppl {:.0}  {:.1} {unit}/s",
            losses.join("  "),
            100.0 * entry.utilization,
            entry.perplexity,
            entry.examples_per_second
        );
        *self = Self::default();
        (entry, line)
    }
}
