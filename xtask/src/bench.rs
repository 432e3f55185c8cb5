//! `cargo xtask bench quant`: time and peak memory of SimVQ's forward+backward at the
//! reference's batch (16,384 tokens × 128 dims) for K from 1,024 to 262,144.
//!
//! Each time is also given as a ratio to one plain `[N, D] × [D, K]` matmul on the same
//! backend in the same run: the distance product is the floor of any exact search. Where that
//! product would not fit in memory (K = 262,144: 16 GiB of output), it is timed as consecutive
//! column blocks of at most [`MAX_BASELINE_OUTPUT_BYTES`], each dropped before the next: the
//! same arithmetic and the same bytes written.

use std::time::{Duration, Instant};

use anyhow::Result;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Distribution, Tensor};
use serde::Serialize;
use simvq_quant::{CodebookQuantizer, Quantizer, SearchTiling, SimVqConfig};

use crate::alloc;

/// Largest output of one baseline matmul: 256 MiB, so the baseline runs on a 24 GiB machine
/// and within wgpu's default largest buffer (256 MiB; lavapipe refuses larger ones).
const MAX_BASELINE_OUTPUT_BYTES: usize = 256 << 20;

/// The reference's image batch: 64 images × 16 × 16 tokens.
const DEFAULT_TOKENS: usize = 16384;
/// The reference's code dimension.
const DEFAULT_DIM: usize = 128;
/// Table 1's codebook sizes.
const DEFAULT_CODEBOOK_SIZES: [usize; 4] = [1024, 8192, 65536, 262144];
const DEFAULT_BUDGET_MIB: usize = 256;
const DEFAULT_REPEATS: usize = 2;

/// Sizes to measure.
#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct BenchArgs {
    /// Tokens per batch N (the reference: 64 images × 16 × 16).
    #[arg(long, default_value_t = DEFAULT_TOKENS)]
    pub tokens: usize,
    /// Code dimension D.
    #[arg(long, default_value_t = DEFAULT_DIM)]
    pub dim: usize,
    /// Codebook sizes K, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = DEFAULT_CODEBOOK_SIZES)]
    pub codebook_sizes: Vec<usize>,
    /// Search budget in MiB.
    #[arg(long, default_value_t = DEFAULT_BUDGET_MIB)]
    pub budget_mib: usize,
    /// Timed repetitions per size (the best is reported).
    #[arg(long, default_value_t = DEFAULT_REPEATS)]
    pub repeats: usize,
}

impl Default for BenchArgs {
    /// The command line's defaults.
    fn default() -> Self {
        Self {
            tokens: DEFAULT_TOKENS,
            dim: DEFAULT_DIM,
            codebook_sizes: DEFAULT_CODEBOOK_SIZES.to_vec(),
            budget_mib: DEFAULT_BUDGET_MIB,
            repeats: DEFAULT_REPEATS,
        }
    }
}

/// One row of the benchmark table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Codebook size K.
    pub codebook_size: usize,
    /// The search tiling the budget gave.
    pub tile_tokens: usize,
    /// Codes per tile.
    pub tile_codes: usize,
    /// One `[N, D] × [D, K]` matmul, seconds.
    pub matmul_s: f64,
    /// In how many column blocks the baseline matmul ran (1 unless its output exceeds 256 MiB).
    pub matmul_blocks: usize,
    /// Inference search with a prebuilt codebook (`Codebook::nearest`: the fused kernel on
    /// the GPU backends that have it, the tiled search elsewhere), seconds.
    pub search_s: f64,
    /// The generic tiled search on the same backend, seconds, where `search_s` timed the
    /// fused kernel instead (`None` on backends without it).
    pub tiled_search_s: Option<f64>,
    /// Training step of the quantizer: forward (E, search, loss) + backward, seconds.
    pub train_step_s: f64,
    /// `search_s / matmul_s`.
    pub search_ratio: f64,
    /// `train_step_s / matmul_s`.
    pub train_step_ratio: f64,
    /// Peak heap bytes above the start of the training step (host backends only).
    pub train_step_extra_bytes: usize,
    /// Bytes the full `[N, K]` f32 distance matrix of the reference would take.
    pub full_matrix_bytes: usize,
}

fn best_of<T>(repeats: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = None;
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        let out = f();
        let took = start.elapsed();
        best = match best {
            Some((t, o)) if t <= took => Some((t, o)),
            _ => Some((took, out)),
        };
    }
    best.expect("at least one repeat")
}

/// Runs the benchmark on backend `B`.
pub fn run<B: AutodiffBackend>(args: &BenchArgs, device: &B::Device) -> Result<Vec<Row>> {
    alloc::start_counting();
    let (n, d) = (args.tokens, args.dim);
    let budget = args.budget_mib << 20;
    let normal = Distribution::Normal(0.0, 1.0);
    let mut rows = Vec::new();
    for &k in &args.codebook_sizes {
        let vq = SimVqConfig::new()
            .with_codebook_size(k)
            .with_dim(d)
            .with_search_budget_bytes(budget)
            .init::<B>(device)?;
        let z = Tensor::<B, 2>::random([n, d], normal, device);
        let baseline_blocks = (n * k * 4).div_ceil(MAX_BASELINE_OUTPUT_BYTES);
        let codes_t: Vec<_> = (0..baseline_blocks)
            .map(|i| {
                let width = k * (i + 1) / baseline_blocks - k * i / baseline_blocks;
                Tensor::<B::InnerBackend, 2>::random([d, width], normal, device)
            })
            .collect();
        let z_inner = z.clone().inner();
        let sync = || B::sync(device).expect("backend sync");
        let baseline = || {
            for block in &codes_t {
                drop(z_inner.clone().matmul(block.clone()));
                sync();
            }
        };

        // Warm-up: thread pools, kernel caches, allocator.
        baseline();
        let (matmul, _) = best_of(args.repeats, baseline);

        let codebook = vq.codebook();
        let (search, _) = best_of(args.repeats, || {
            let indices = codebook.nearest(z.clone());
            sync();
            indices
        });
        let fused = codebook.nearest_fused(z.clone().narrow(0, 0, 1)).is_some();
        let tiling = SearchTiling::for_budget(n, k, budget);
        let tiled = fused.then(|| {
            let (took, _) = best_of(args.repeats, || {
                let indices = codebook.nearest_tiled(z.clone(), tiling);
                sync();
                indices
            });
            took.as_secs_f64()
        });
        drop(codebook);

        let mut extra = 0;
        let (step, _) = best_of(args.repeats, || {
            let start = alloc::reset_peak();
            let out = vq
                .forward(z.clone().require_grad())
                .expect("shapes checked above");
            let grads = out.loss.total().backward();
            sync();
            extra = extra.max(alloc::peak_growth(start));
            grads
        });
        let row = Row {
            codebook_size: k,
            tile_tokens: tiling.tokens,
            tile_codes: tiling.codes,
            matmul_s: matmul.as_secs_f64(),
            matmul_blocks: baseline_blocks,
            search_s: search.as_secs_f64(),
            tiled_search_s: tiled,
            train_step_s: step.as_secs_f64(),
            search_ratio: search.as_secs_f64() / matmul.as_secs_f64(),
            train_step_ratio: step.as_secs_f64() / matmul.as_secs_f64(),
            train_step_extra_bytes: extra,
            full_matrix_bytes: n * k * 4,
        };
        eprintln!(
            "K={k:>7}: matmul {:.3}s, search {:.3}s ({:.2}x){}, train step {:.3}s ({:.2}x), \
             extra memory {:.0} MiB",
            row.matmul_s,
            row.search_s,
            row.search_ratio,
            tiled.map_or(String::new(), |t| format!(" fused, tiled {t:.3}s")),
            row.train_step_s,
            row.train_step_ratio,
            extra as f64 / (1 << 20) as f64
        );
        rows.push(row);
    }
    Ok(rows)
}

/// The rows as a Markdown table, for docs/benchmarks.md.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| K | tile (tokens × codes) | matmul [N,D]×[D,K] | search (inference) | ratio | \
         tiled search (where the search is fused) | train step (fwd+bwd) | ratio | \
         extra memory | full [N,K] matrix |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mib = |b: usize| b as f64 / (1 << 20) as f64;
    for r in rows {
        out += &format!(
            "| {} | {} × {} | {:.3} s{} | {:.3} s | {:.2}× | {} | {:.3} s | {:.2}× | {:.0} MiB | {:.0} MiB |\n",
            r.codebook_size,
            r.tile_tokens,
            r.tile_codes,
            r.matmul_s,
            if r.matmul_blocks > 1 {
                format!(" ({} blocks)", r.matmul_blocks)
            } else {
                String::new()
            },
            r.search_s,
            r.search_ratio,
            r.tiled_search_s
                .map_or("—".to_string(), |t| format!("{t:.3} s")),
            r.train_step_s,
            r.train_step_ratio,
            mib(r.train_step_extra_bytes),
            mib(r.full_matrix_bytes),
        );
    }
    out
}
