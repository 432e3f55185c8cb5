//! What `reproduce image` writes: one row per method (its validation and training numbers and
//! its training curve), the table as markdown and JSON, and the curves as a PNG.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use simvq_train::{ImageEvalReport, ImageRunReport, ImageTrainConfig};

use crate::curves_plot::{render, Chart, Series};
use crate::reproduce::Scale;
use crate::reproduce_methods::Method;

/// One logging window of a run's training.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Steps done at the window's end.
    pub step: usize,
    /// Codes used by the window's training batches ÷ K.
    pub utilization: f64,
    /// Mean L1 reconstruction loss of the window's batches.
    pub l1: f64,
}

/// One trained method.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MethodResult {
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
    /// The held-out images.
    pub validation: ImageEvalReport,
    /// As many training images, evaluated the same way.
    pub training: ImageEvalReport,
    /// The training curve.
    pub curve: Vec<CurvePoint>,
}

impl MethodResult {
    /// The result of a finished run of `method`.
    pub fn new(
        method: Method,
        k: usize,
        config: &ImageTrainConfig,
        report: &ImageRunReport,
    ) -> Result<Self> {
        let eval = report
            .eval
            .as_ref()
            .context("the run ended without its evaluation")?;
        Ok(Self {
            method,
            label: method.label().to_owned(),
            codebook_size: k,
            steps: config.schedule.steps,
            seconds: report.seconds,
            validation: eval.validation.metrics.clone(),
            training: eval.training.metrics.clone(),
            curve: report
                .history
                .iter()
                .map(|entry| CurvePoint {
                    step: entry.step,
                    utilization: entry.utilization,
                    l1: entry.losses.get("l1").copied().unwrap_or(f64::NAN),
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
pub struct ReproduceReport {
    /// How the numbers were made, in words.
    pub protocol: String,
    /// `cpu` or `paper`.
    pub scale: Scale,
    /// The command line.
    pub command: String,
    /// One row per run, in table order.
    pub results: Vec<MethodResult>,
}

impl ReproduceReport {
    /// The report of `results`, trained from `base` and evaluated on `val`.
    pub fn new(
        scale: Scale,
        base: &ImageTrainConfig,
        val: &Path,
        results: Vec<MethodResult>,
    ) -> Self {
        let size = base.data.eval_size.unwrap_or(base.data.image_size);
        let protocol = format!(
            "every method: the same autoencoder (z = {} channels, f{}), data, optimizer \
             (lr {}), seed and {} steps of batch {}; {} evaluated on the validation split {} \
             (never trained on), images resized and centre-cropped to {size}², reconstructions \
             clamped; utilization = codes used over all evaluated tokens ÷ K; PSNR per batch as \
             the reference computes it; SSIM ×100; {}. rFID and LPIPS need their weight files \
             and are not computed here",
            base.model.autoencoder.z_channels,
            base.model.autoencoder.downsample_factor(),
            base.optimizer.learning_rate,
            base.schedule.steps,
            base.data.batch_size,
            results.first().map_or(0, |r| r.validation.images),
            val.display(),
            if base.schedule.ema_decay == 0.0 {
                "the last step's weights".to_owned()
            } else {
                format!("the EMA weights (decay {})", base.schedule.ema_decay)
            },
        );
        Self {
            protocol,
            scale,
            command: std::env::args().collect::<Vec<_>>().join(" "),
            results,
        }
    }

    /// The results table in markdown, with the protocol under it.
    pub fn markdown(&self) -> String {
        let mut text = String::from(
            "| Method | K | val utilization | val PSNR (dB) | val SSIM | train PSNR (dB) | \
             lowest window utilization (training) | minutes |\n|---|---|---|---|---|---|---|---|\n",
        );
        for r in &self.results {
            let lowest = r.lowest_window_utilization();
            text.push_str(&format!(
                "| {} | {} | {:.1}% | {:.2} | {:.1} | {:.2} | {:.1}% | {:.1} |\n",
                r.label,
                r.codebook_size,
                100.0 * r.validation.utilization,
                r.validation.psnr,
                100.0 * r.validation.ssim,
                r.training.psnr,
                100.0 * lowest,
                r.seconds / 60.0
            ));
        }
        text.push_str(&format!(
            "\nProtocol: {}.\n\nCommand: `{}`\n",
            self.protocol, self.command
        ));
        text
    }

    /// Utilization and L1 over training, one series per run.
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
                title: "L1 reconstruction loss (training batches)".into(),
                x_label: "step".into(),
                y_label: "mean |image - reconstruction|".into(),
                series: series(|p| p.l1),
                log_y: true,
            },
        ]
    }
}

/// Writes `results.md`, `results.json` and `curves.png` into `out`.
pub fn write_report(report: &ReproduceReport, out: &Path) -> Result<()> {
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
