//! What `reproduce image` and `reproduce audio` write: one row per method (its validation and
//! training numbers and its training curve), the table as markdown and JSON, and the curves as
//! a PNG.

use std::path::Path;

use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use simvq_train::{AudioEvalReport, ImageEvalReport, LogEntry, RunReport, SplitEval};

use crate::curves_plot::{render, Chart, Series};
use crate::reproduce::Scale;
use crate::reproduce_methods::Method;

/// An evaluation report as columns of the results table.
pub trait EvalColumns: Clone + Serialize + DeserializeOwned {
    /// The metric columns' headers.
    const HEADERS: &'static [&'static str];

    /// The metric cells of one row: the validation split's, then the training split's to
    /// compare with.
    fn cells(validation: &Self, training: &Self) -> Vec<String>;

    /// Images or utterances evaluated.
    fn examples(&self) -> usize;
}

impl EvalColumns for ImageEvalReport {
    const HEADERS: &'static [&'static str] = &[
        "val utilization",
        "val PSNR (dB)",
        "val SSIM",
        "train PSNR (dB)",
    ];

    fn cells(validation: &Self, training: &Self) -> Vec<String> {
        vec![
            format!("{:.1}%", 100.0 * validation.utilization),
            format!("{:.2}", validation.psnr),
            format!("{:.1}", 100.0 * validation.ssim),
            format!("{:.2}", training.psnr),
        ]
    }

    fn examples(&self) -> usize {
        self.images
    }
}

impl EvalColumns for AudioEvalReport {
    const HEADERS: &'static [&'static str] = &[
        "val utilization",
        "val STOI",
        "val PESQ (wb)",
        "val log-mel L1",
        "train STOI",
        "train PESQ (wb)",
    ];

    fn cells(validation: &Self, training: &Self) -> Vec<String> {
        let pesq = |r: &Self| {
            r.pesq
                .map_or_else(|| "unscored".to_owned(), |p| format!("{p:.2}"))
        };
        vec![
            format!("{:.1}%", 100.0 * validation.utilization),
            format!("{:.3}", validation.stoi),
            pesq(validation),
            format!("{:.3}", validation.mel_l1),
            format!("{:.3}", training.stoi),
            pesq(training),
        ]
    }

    fn examples(&self) -> usize {
        self.utterances
    }
}

/// One logging window of a run's training.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Steps done at the window's end.
    pub step: usize,
    /// Codes used by the window's training batches ÷ K.
    pub utilization: f64,
    /// Mean reconstruction loss of the window's batches (images: L1; audio: log-mel L1).
    #[serde(alias = "l1")]
    pub reconstruction: f64,
}

/// One trained method.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "E: EvalColumns")]
pub struct MethodResult<E> {
    /// Which method.
    pub method: Method,
    /// Its name in the table.
    pub label: String,
    /// Codes `K`.
    pub codebook_size: usize,
    /// Steps trained.
    pub steps: usize,
    /// Wall time of its training and evaluation (of the last invocation when it resumed).
    pub seconds: f64,
    /// Steps whose update was skipped for a non-finite loss (a diverging method).
    #[serde(default)]
    pub non_finite_skips: usize,
    /// The held-out images or utterances.
    pub validation: E,
    /// As many training examples, evaluated the same way.
    pub training: E,
    /// The training curve.
    pub curve: Vec<CurvePoint>,
}

impl<E: EvalColumns> MethodResult<E> {
    /// The result of a finished run of `method` (`label` its name in the table) that trained
    /// `steps` steps; `reconstruction` names its reconstruction loss in the run's history.
    pub fn new(
        (method, label, k): (Method, &str, usize),
        steps: usize,
        report: &RunReport<SplitEval<E>>,
        reconstruction: &str,
    ) -> Result<Self> {
        let eval = report
            .eval
            .as_ref()
            .context("the run ended without its evaluation")?;
        Ok(Self {
            method,
            label: label.to_owned(),
            codebook_size: k,
            steps,
            seconds: report.seconds,
            non_finite_skips: report.non_finite_skips,
            validation: eval.validation.metrics.clone(),
            training: eval.training.metrics.clone(),
            curve: report
                .history
                .iter()
                .map(|entry: &LogEntry| CurvePoint {
                    step: entry.step,
                    utilization: entry.utilization,
                    reconstruction: entry
                        .losses
                        .get(reconstruction)
                        .copied()
                        .unwrap_or(f64::NAN),
                })
                .collect(),
        })
    }

    /// The fewest codes any full logging window used, ÷ K. A run's last window can be
    /// shorter (steps not a multiple of the window): fewer tokens use fewer codes, so it is
    /// left out.
    pub fn lowest_window_utilization(&self) -> f64 {
        let spans: Vec<usize> = self
            .curve
            .iter()
            .scan(0, |previous, p| {
                Some(p.step - std::mem::replace(previous, p.step))
            })
            .collect();
        let full = spans.iter().copied().max().unwrap_or(0);
        self.curve
            .iter()
            .zip(&spans)
            .filter(|&(_, &span)| span == full)
            .map(|(p, _)| p.utilization)
            .fold(f64::INFINITY, f64::min)
    }

    /// Reads a `result.json`.
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a reproduce result; delete it to train that method again",
                path.display()
            )
        })
    }

    /// Writes it atomically (a run killed while writing leaves no half file behind).
    pub fn write(&self, path: &Path) -> Result<()> {
        write_atomic(path, serde_json::to_string_pretty(self)?.as_bytes())
    }
}

/// The comparison.
#[derive(Debug, Clone, Serialize)]
#[serde(bound = "E: EvalColumns")]
pub struct ReproduceReport<E> {
    /// How the numbers were made, in words.
    pub protocol: String,
    /// `cpu` or `paper`.
    pub scale: Scale,
    /// The command line.
    pub command: String,
    /// What the curves' reconstruction loss is.
    pub reconstruction_loss: String,
    /// One row per run, in table order.
    pub results: Vec<MethodResult<E>>,
}

impl<E: EvalColumns> ReproduceReport<E> {
    /// The report of `results`, made as `protocol` says, their curves' reconstruction loss
    /// being `reconstruction_loss`.
    pub fn new(
        scale: Scale,
        protocol: String,
        reconstruction_loss: &str,
        results: Vec<MethodResult<E>>,
    ) -> Self {
        Self {
            protocol,
            scale,
            command: std::env::args().collect::<Vec<_>>().join(" "),
            reconstruction_loss: reconstruction_loss.to_owned(),
            results,
        }
    }

    /// The results table in markdown, with the protocol under it.
    pub fn markdown(&self) -> String {
        let headers: Vec<&str> = ["Method", "K"]
            .into_iter()
            .chain(E::HEADERS.iter().copied())
            .chain([
                "lowest window utilization (training)",
                "steps skipped (non-finite loss)",
                "minutes",
            ])
            .collect();
        let mut text = format!(
            "| {} |\n|{}\n",
            headers.join(" | "),
            "---|".repeat(headers.len())
        );
        for r in &self.results {
            let cells: Vec<String> = [r.label.clone(), r.codebook_size.to_string()]
                .into_iter()
                .chain(E::cells(&r.validation, &r.training))
                .chain([
                    format!("{:.1}%", 100.0 * r.lowest_window_utilization()),
                    r.non_finite_skips.to_string(),
                    format!("{:.1}", r.seconds / 60.0),
                ])
                .collect();
            text.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        text.push_str(&format!(
            "\nProtocol: {}.\n\nCommand: `{}`\n",
            self.protocol, self.command
        ));
        text
    }

    /// Utilization and the reconstruction loss over training, one series per run.
    fn charts(&self) -> [Chart; 2] {
        let series = |value: fn(&CurvePoint) -> f64| {
            self.results
                .iter()
                .map(|r| Series {
                    label: format!("{} K={}", r.label, r.codebook_size),
                    points: r.curve.iter().map(|p| (p.step as f64, value(p))).collect(),
                })
                .collect()
        };
        [
            Chart {
                title: "codebook utilization (training batches)".into(),
                x_label: "step".into(),
                y_label: "codes used / K (%)".into(),
                series: series(|p| 100.0 * p.utilization),
                log_y: false,
            },
            Chart {
                title: format!("{} (training batches)", self.reconstruction_loss),
                x_label: "step".into(),
                y_label: self.reconstruction_loss.clone(),
                series: series(|p| p.reconstruction),
                log_y: true,
            },
        ]
    }
}

/// Writes `results.md`, `results.json` and `curves.png` into `out`.
pub fn write_report<E: EvalColumns>(report: &ReproduceReport<E>, out: &Path) -> Result<()> {
    write_atomic(&out.join("results.md"), report.markdown().as_bytes())?;
    write_atomic(
        &out.join("results.json"),
        serde_json::to_string_pretty(report)?.as_bytes(),
    )?;
    let (width, height, pixels) = render(&report.charts()).map_err(anyhow::Error::msg)?;
    let plot = image::RgbImage::from_raw(width, height, pixels).context("plot buffer")?;
    let mut png = std::io::Cursor::new(Vec::new());
    plot.write_to(&mut png, image::ImageFormat::Png)
        .context("encoding the plot")?;
    write_atomic(&out.join("curves.png"), png.get_ref())?;
    eprintln!(
        "wrote {}, results.json and curves.png",
        out.join("results.md").display()
    );
    Ok(())
}

/// `bytes` into `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
