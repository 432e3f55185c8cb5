//! `cargo xtask bench speed`: simvq-rs next to PyTorch on the same machine in one run, as
//! throughput ratios (higher is better for simvq-rs).
//!
//! Each case is measured here, then by `tools/bench_torch.py` with the same shapes, widths and
//! step (the script's docstring says what it runs), one after the other so neither competes
//! with the other for the cores. Without `--python` only the Rust column is printed.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Distribution, Tensor};
use serde::Serialize;
use simvq_train::{CodebookInit, ImageTrainConfig};

use crate::{bench, bench_image};

/// What to measure.
#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct SpeedArgs {
    /// Python interpreter with torch, vector-quantize-pytorch and taming-transformers
    /// (`pip install torch vector-quantize-pytorch`, then `pip install
    /// taming-transformers==0.0.1 --no-deps`).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Device of the PyTorch side (`cpu`, `cuda`, `cuda:N`): next to `--backend cuda` on a
    /// GPU machine (tools/gpu-bench.sh).
    #[arg(long, default_value = "cpu")]
    pub torch_device: String,
    /// Timed training steps of the demo image model.
    #[arg(long, default_value_t = 20)]
    pub steps: usize,
    /// Timed training steps of the reference image model (128², K = 65,536; ~25 s a step here);
    /// 0 leaves it out.
    #[arg(long, default_value_t = 2)]
    pub reference_steps: usize,
    /// Codebook sizes of the quantizer rows, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [1024, 8192, 65536, 262144])]
    pub codebook_sizes: Vec<usize>,
}

/// One comparison: the same work on both sides, as a throughput (bigger is faster).
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    /// What was measured.
    pub what: String,
    /// Unit of the throughputs.
    pub unit: &'static str,
    /// simvq-rs's throughput.
    pub rust: f64,
    /// PyTorch's throughput, when `--python` was given.
    pub torch: Option<f64>,
}

impl Case {
    /// simvq-rs's throughput over PyTorch's.
    pub fn ratio(&self) -> Option<f64> {
        self.torch.map(|t| self.rust / t)
    }
}

/// Runs every case on backend `B`.
pub fn run<B: AutodiffBackend>(args: &SpeedArgs, device: &B::Device) -> Result<Vec<Case>> {
    let torch = TorchBench::new(args.python.clone(), args.torch_device.clone())?;
    let mut cases = Vec::new();

    let demo = ImageTrainConfig::demo();
    cases.push(Case {
        what: "image demo training step (32², batch 4, K 512, codebook refit)".into(),
        unit: "images/s",
        rust: bench_image::throughput::<B>(&demo, args.steps, device)?,
        torch: torch.image("image", &demo, args.steps)?,
    });
    let encode = encode_config(&demo);
    cases.push(Case {
        what: format!(
            "image demo encode ({}², batch {})",
            encode.data.image_size, encode.data.batch_size
        ),
        unit: "images/s",
        rust: encode_throughput::<B::InnerBackend>(&encode, args.steps, device)?,
        torch: torch.image("image-encode", &encode, args.steps)?,
    });
    if args.reference_steps > 0 {
        let mut reference = ImageTrainConfig::reference(65_536);
        reference.loss.perceptual_weight = 0.0;
        reference.data.batch_size = 2;
        cases.push(Case {
            what: "image reference training step (128², batch 2, K 65,536, no LPIPS)".into(),
            unit: "images/s",
            rust: bench_image::throughput::<B>(&reference, args.reference_steps, device)?,
            torch: torch.image("image", &reference, args.reference_steps)?,
        });
    }
    cases.extend(quantizer_cases::<B>(args, &torch, device)?);
    Ok(cases)
}

/// The demo tokenizer encoding whole 64² validation-size images, 16 at a time.
fn encode_config(demo: &ImageTrainConfig) -> ImageTrainConfig {
    let mut c = demo.clone();
    c.data.image_size = demo.data.eval_size.unwrap_or(demo.data.image_size);
    c.data.batch_size = 16;
    c
}

/// Images per second of the tokenizer's `encode` (indices only, no autodiff).
fn encode_throughput<B: Backend>(
    config: &ImageTrainConfig,
    steps: usize,
    device: &B::Device,
) -> Result<f64> {
    let model = config.model.init::<B>(device)?;
    let size = config.data.image_size as usize;
    let batch = config.data.batch_size;
    let images = Tensor::<B, 4>::random(
        [batch, 3, size, size],
        Distribution::Uniform(-1.0, 1.0),
        device,
    );
    let encode = || -> Result<()> {
        let indices = model.encode(images.clone())?;
        B::sync(device)?;
        drop(indices);
        Ok(())
    };
    encode()?;
    let start = Instant::now();
    for _ in 0..steps {
        encode()?;
    }
    Ok((batch * steps) as f64 / start.elapsed().as_secs_f64())
}

/// SimVQ forward + backward at N = 16,384, D = 128 against vector-quantize-pytorch's `SimVQ`,
/// and the distance product against torch's sgemm, per K (steps per second).
fn quantizer_cases<B: AutodiffBackend>(
    args: &SpeedArgs,
    torch: &TorchBench,
    device: &B::Device,
) -> Result<Vec<Case>> {
    let quant_args = bench::BenchArgs {
        codebook_sizes: args.codebook_sizes.clone(),
        ..bench::BenchArgs::default()
    };
    let rows = bench::run::<B>(&quant_args, device)?;
    let torch_rows = torch.quant(&quant_args)?;
    let mut cases = Vec::new();
    for row in rows {
        let theirs = torch_rows.as_ref().and_then(|t| {
            t.iter()
                .find(|r| r["codebook_size"].as_u64() == Some(row.codebook_size as u64))
        });
        let per_second = |key: &str| theirs.and_then(|r| r[key].as_f64()).map(|s| 1.0 / s);
        cases.push(Case {
            what: format!(
                "SimVQ fwd+bwd vs vector-quantize-pytorch, N {}, D {}, K {}",
                quant_args.tokens, quant_args.dim, row.codebook_size
            ),
            unit: "steps/s",
            rust: 1.0 / row.train_step_s,
            torch: per_second("train_step_s"),
        });
        cases.push(Case {
            what: format!(
                "nearest-code search (SimVQ inference) vs torch sgemm [N,D]×[D,K], K {}",
                row.codebook_size
            ),
            unit: "searches/s",
            rust: 1.0 / row.search_s,
            torch: per_second("matmul_s"),
        });
    }
    Ok(cases)
}

/// `tools/bench_torch.py` run with the interpreter the user named, if any.
struct TorchBench {
    python: Option<PathBuf>,
    script: PathBuf,
    threads: usize,
    device: String,
}

impl TorchBench {
    fn new(python: Option<PathBuf>, device: String) -> Result<Self> {
        let built = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tools/bench_torch.py");
        let script = simvq_data::checkout_path("tools/bench_torch.py", built);
        if python.is_some() && !script.exists() {
            bail!(
                "{} is missing: run `bench speed --python` from a simvq-rs checkout",
                script.display()
            );
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Self {
            python,
            script,
            threads,
            device,
        })
    }

    /// The script's JSON answer to `args`, or `None` without an interpreter.
    fn call(&self, args: &[String]) -> Result<Option<serde_json::Value>> {
        let Some(python) = &self.python else {
            return Ok(None);
        };
        let mut command = Command::new(python);
        command
            .arg(&self.script)
            .arg("--threads")
            .arg(self.threads.to_string())
            .arg("--device")
            .arg(&self.device)
            .args(args);
        let output = command
            .output()
            .with_context(|| format!("running {}", python.display()))?;
        if !output.status.success() {
            bail!(
                "{} {} failed ({}): {}\n(it needs torch, vector-quantize-pytorch and \
                 taming-transformers==0.0.1 --no-deps)",
                python.display(),
                self.script.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let last = text.lines().last().unwrap_or_default();
        let value = serde_json::from_str(last)
            .with_context(|| format!("reading the answer of {}: {text}", self.script.display()))?;
        Ok(Some(value))
    }

    /// Images per second of the same model and step as `config` (`what`: `image` for a
    /// training step, `image-encode` for `encode`).
    fn image(&self, what: &str, config: &ImageTrainConfig, steps: usize) -> Result<Option<f64>> {
        let ae = &config.model.autoencoder;
        let multipliers: Vec<String> = ae
            .channel_multipliers
            .iter()
            .map(|m| m.to_string())
            .collect();
        let mut args = vec![
            what.to_string(),
            format!("--ch={}", ae.channels),
            format!("--ch-mult={}", multipliers.join(",")),
            format!("--blocks={}", ae.res_blocks),
            format!("--z={}", ae.z_channels),
            format!("--k={}", config.model.quantizer.codebook_size),
            format!("--ndf={}", config.discriminator.base_channels),
            format!("--size={}", config.data.image_size),
            format!("--batch={}", config.data.batch_size),
            format!("--steps={steps}"),
        ];
        if config.schedule.codebook_init == CodebookInit::Data
            && config.schedule.codebook_refit_steps > 0
        {
            args.push("--refit".into());
        }
        Ok(self
            .call(&args)?
            .and_then(|v| v["images_per_second"].as_f64()))
    }

    /// vector-quantize-pytorch's and sgemm's seconds per K.
    fn quant(&self, args: &bench::BenchArgs) -> Result<Option<Vec<serde_json::Value>>> {
        let sizes: Vec<String> = args.codebook_sizes.iter().map(|k| k.to_string()).collect();
        let answer = self.call(&[
            "quant".into(),
            format!("--tokens={}", args.tokens),
            format!("--dim={}", args.dim),
            format!("--k={}", sizes.join(",")),
            format!("--repeats={}", args.repeats),
        ])?;
        Ok(answer.and_then(|v| v["rows"].as_array().cloned()))
    }
}

/// The cases as a markdown table.
pub fn markdown(cases: &[Case]) -> String {
    let mut out = String::from(
        "| what | unit | PyTorch | simvq-rs | ratio (simvq-rs / PyTorch) |\n|---|---|---|---|---|\n",
    );
    for c in cases {
        let torch = c.torch.map_or("—".into(), |t| format!("{t:.3}"));
        let ratio = c.ratio().map_or("—".into(), |r| format!("{r:.2}×"));
        out.push_str(&format!(
            "| {} | {} | {torch} | {:.3} | {ratio} |\n",
            c.what, c.unit, c.rust
        ));
    }
    out
}
