//! `cargo xtask bench all-reduce`: what a step of a multi-node run (`train --nodes`) pays for
//! its exchange. Two processes on this machine sum one f32 buffer the way the training loop
//! does (simvq-train's `Cluster` on burn-collective over 127.0.0.1), at the sizes of the
//! gradient buffers of the image demo, the reference image tokenizer and the reference audio
//! codec (each with its discriminator); with `--python`, PyTorch's
//! `torch.distributed.all_reduce` (gloo, the CPU backend a PyTorch user would take) on the
//! same buffers in the same run (`tools/all_reduce_torch.py`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use burn::module::Module;
use burn::tensor::Tensor;
use burn_flex::Flex;
use serde::{Deserialize, Serialize};
use simvq_train::{AudioTrainConfig, Cluster, ImageTrainConfig, NodeSettings};

/// What to measure.
#[derive(Debug, Clone, clap::Args)]
pub struct AllReduceArgs {
    /// Buffer sizes in f32 elements, comma-separated. Default: the parameter counts of the
    /// image demo, the reference image tokenizer and the reference audio codec, each with its
    /// discriminator(s).
    #[arg(long, value_delimiter = ',')]
    pub elements: Vec<usize>,
    /// Timed exchanges per size (the median is reported), after one untimed.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// A Python with torch: also time torch.distributed's all_reduce (gloo) on the same sizes.
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Internal: run as node RANK of the two (the command starts both).
    #[arg(long, hide = true)]
    pub node: Option<usize>,
    /// Internal: the coordinator's port on 127.0.0.1.
    #[arg(long, hide = true)]
    pub port: Option<u16>,
}

/// One size's timings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    /// What the size is (a model, or "custom").
    pub what: String,
    /// Elements of the buffer.
    pub elements: usize,
    /// Median seconds of one two-process sum, simvq-rs (burn-collective).
    pub simvq_s: f64,
    /// The same with torch.distributed (gloo), when measured.
    pub torch_s: Option<f64>,
}

/// Runs the benchmark (or, with `--node`, one of its two processes).
pub fn run(args: &AllReduceArgs) -> Result<Vec<Row>> {
    let sizes = sizes(args);
    if let (Some(rank), Some(port)) = (args.node, args.port) {
        node(rank, port, &sizes, args.rounds)?;
        return Ok(Vec::new());
    }
    for (what, elements) in &sizes {
        eprintln!("{what}: {elements} f32 elements");
    }
    let simvq = two_processes(&std::env::current_exe()?, &sizes, args)?;
    let torch = match &args.python {
        Some(python) => Some(torch_all_reduce(python, &sizes, args.rounds)?),
        None => None,
    };
    Ok(sizes
        .iter()
        .zip(simvq)
        .enumerate()
        .map(|(i, ((what, elements), simvq_s))| Row {
            what: what.clone(),
            elements: *elements,
            simvq_s,
            torch_s: torch.as_ref().map(|t| t[i]),
        })
        .collect())
}

/// The sizes to time, named.
fn sizes(args: &AllReduceArgs) -> Vec<(String, usize)> {
    if !args.elements.is_empty() {
        return args
            .elements
            .iter()
            .map(|&n| ("custom".into(), n))
            .collect();
    }
    let device = Default::default();
    let image = |config: ImageTrainConfig| {
        let model = config.model.init::<Flex>(&device).expect("a valid config");
        model.num_params() + config.discriminator.init::<Flex>(&device).num_params()
    };
    let audio = AudioTrainConfig::reference(65_536);
    let codec = audio.model.init::<Flex>(&device).expect("a valid config");
    let audio = codec.num_params() + audio.discriminator.init::<Flex>(&device).num_params();
    vec![
        ("image demo".into(), image(ImageTrainConfig::demo())),
        (
            "reference image (65k)".into(),
            image(ImageTrainConfig::reference(65_536)),
        ),
        ("reference audio (65k)".into(), audio),
    ]
}

/// One of the two processes: joins, then sums a buffer of each size `rounds + 1` times;
/// rank 0 prints each size's median time as a line of JSON.
fn node(rank: usize, port: u16, sizes: &[(String, usize)], rounds: usize) -> Result<()> {
    let settings = NodeSettings {
        nodes: 2,
        rank,
        coordinator: format!("127.0.0.1:{port}"),
        address: None,
        timeout: Duration::from_secs(300),
    };
    let device = Default::default();
    let cluster = Cluster::<Flex>::join(&settings, &device)?;
    for (_, elements) in sizes {
        let buffer = Tensor::<Flex, 1>::ones([*elements], &device);
        let mut times = Vec::new();
        for round in 0..=rounds {
            let started = Instant::now();
            let summed = cluster.sum(buffer.clone(), "the benchmark's sum")?;
            let elapsed = started.elapsed().as_secs_f64();
            let (low, high): (f32, f32) = (
                summed.clone().min().into_scalar(),
                summed.max().into_scalar(),
            );
            if (low, high) != (2.0, 2.0) {
                bail!("the sums of two ones came out between {low} and {high}");
            }
            if round > 0 {
                times.push(elapsed);
            }
        }
        if cluster.is_leader() {
            println!("{}", serde_json::json!({ "seconds": median(times) }));
        }
    }
    Ok(())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Starts `exe` twice as the two nodes and reads rank 0's times.
fn two_processes(exe: &Path, sizes: &[(String, usize)], args: &AllReduceArgs) -> Result<Vec<f64>> {
    let port = free_port()?;
    let elements: Vec<String> = sizes.iter().map(|(_, n)| n.to_string()).collect();
    let children: Vec<_> = (0..2)
        .map(|rank| {
            Command::new(exe)
                .args(["bench", "all-reduce", "--elements", &elements.join(",")])
                .args([
                    "--rounds",
                    &args.rounds.to_string(),
                    "--port",
                    &port.to_string(),
                ])
                .args(["--node", &rank.to_string()])
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .context("starting a node of the benchmark")
        })
        .collect::<Result<_>>()?;
    let mut outputs = Vec::new();
    for child in children {
        let output = child.wait_with_output()?;
        if !output.status.success() {
            bail!("a node of the benchmark failed (its errors are above)");
        }
        outputs.push(output.stdout);
    }
    json_seconds(&outputs[0], sizes.len())
}

/// The `"seconds"` of each JSON line of `stdout` (other lines are the collective's chatter).
fn json_seconds(stdout: &[u8], expected: usize) -> Result<Vec<f64>> {
    let seconds: Vec<f64> = String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|value| value["seconds"].as_f64())
        .collect();
    if seconds.len() != expected {
        bail!("expected {expected} timings, got {}", seconds.len());
    }
    Ok(seconds)
}

/// A port that was free a moment ago, with the next two (the nodes') free too.
fn free_port() -> Result<u16> {
    for _ in 0..100 {
        let base = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let free = |p: u16| TcpListener::bind(("0.0.0.0", p)).is_ok();
        if base < u16::MAX - 2 && (base..base + 3).all(free) {
            return Ok(base);
        }
    }
    bail!("no three consecutive free ports found")
}

/// torch.distributed's all_reduce (gloo) on the same sizes, two processes.
fn torch_all_reduce(python: &Path, sizes: &[(String, usize)], rounds: usize) -> Result<Vec<f64>> {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/all_reduce_torch.py");
    let script = simvq_data::checkout_path("tools/all_reduce_torch.py", built);
    let elements: Vec<String> = sizes.iter().map(|(_, n)| n.to_string()).collect();
    let output = Command::new(python)
        .arg(&script)
        .args([
            "--elements",
            &elements.join(","),
            "--rounds",
            &rounds.to_string(),
        ])
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !output.status.success() {
        bail!("{} failed (its errors are above)", script.display());
    }
    json_seconds(&output.stdout, sizes.len())
}

/// The rows as a markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let mut table = String::from(
        "| buffer | f32 elements | MiB | simvq-rs (burn-collective) | torch.distributed (gloo) | \
         ratio |\n|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let mib = row.elements as f64 * 4.0 / (1 << 20) as f64;
        let (torch, ratio) = match row.torch_s {
            Some(t) => (
                format!("{:.1} ms", 1e3 * t),
                format!("{:.2}×", t / row.simvq_s),
            ),
            None => ("—".into(), "—".into()),
        };
        table.push_str(&format!(
            "| {} | {} | {mib:.1} | {:.1} ms | {torch} | {ratio} |\n",
            row.what,
            row.elements,
            1e3 * row.simvq_s
        ));
    }
    table
}
