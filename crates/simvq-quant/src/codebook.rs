//! The effective codebook: exact nearest-code search under a memory budget, lookup, and the
//! quantization step shared by every codebook quantizer.
//!
//! The reference builds the full `[N, K]` distance matrix (16,384 × 262,144 floats ≈ 17 GB for
//! one ImageNet batch at K = 262k). Here the score matrix is walked in tiles no larger than a byte
//! budget, keeping a running (min, argmin) per token, so memory stays bounded for any K while the
//! indices stay identical to the full search.

use burn::tensor::{backend::Backend, Int, Tensor};

use crate::estimator::GradientEstimator;
use crate::quant_loss::{LossWeights, QuantLoss};
use crate::quantizer_output::QuantizerOutput;

/// Default budget for the score tile of the nearest-code search: 256 MiB.
pub const DEFAULT_SEARCH_BUDGET_BYTES: usize = 256 << 20;

/// Bytes counted per score element: an f32 tile, counted twice to leave room for a backend
/// that still holds the previous tile while it computes the next (asynchronous GPU queues).
const BYTES_PER_SCORE: usize = 2 * core::mem::size_of::<f32>();

/// Largest tile a token chunk is given before codes are chunked: keeps several token rows
/// per tile so the code side of the matmul is reused.
const MAX_TOKEN_CHUNK: usize = 4096;

/// How the `[N, K]` score matrix is cut into tiles of `tokens × codes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchTiling {
    /// Tokens (rows) per tile.
    pub tokens: usize,
    /// Codes (columns) per tile.
    pub codes: usize,
}

impl SearchTiling {
    /// The largest tiles whose scores fit `budget_bytes` for `n` tokens and `k` codes.
    ///
    /// Codes are chunked first (a tile spans as many codes as fit next to a token chunk), so a
    /// budget smaller than one row of scores still works: the tile degrades to one token and
    /// as many codes as fit, never less than one code.
    pub fn for_budget(n: usize, k: usize, budget_bytes: usize) -> Self {
        let max_scores = (budget_bytes / BYTES_PER_SCORE).max(1);
        let tokens = n.clamp(1, MAX_TOKEN_CHUNK).min(max_scores);
        let codes = (max_scores / tokens).clamp(1, k.max(1));
        // With all codes in one tile, spend the rest of the budget on more tokens per tile.
        let tokens = if codes == k {
            (max_scores / k.max(1)).clamp(1, n.max(1))
        } else {
            tokens
        };
        Self { tokens, codes }
    }

    /// Bytes of score memory one tile of this shape may use.
    pub fn tile_bytes(&self) -> usize {
        self.tokens * self.codes * BYTES_PER_SCORE
    }
}

/// An effective codebook `E` (`[K, D]`) ready for nearest-code search and lookup.
///
/// In training it is rebuilt every step (for SimVQ, `E = C·Wᵀ + b` moves with `W`) and
/// `codes` keeps its autodiff graph, so [`Codebook::lookup`] sends gradients to whatever made
/// `E`. In inference build it once with `SimVq::codebook` and reuse it for every batch.
#[derive(Debug, Clone)]
pub struct Codebook<B: Backend> {
    codes: Tensor<B, 2>,
    /// `[e_j, ‖e_j‖²]` rows (`[K, D + 1]`), detached. With queries written as `[−2z, 1]`, one
    /// matmul yields the score `‖e_j‖² − 2 z·e_j` directly: no separate pass over the score
    /// tile to add the norms.
    search_keys: Tensor<B, 2>,
    budget_bytes: usize,
}

impl<B: Backend> Codebook<B> {
    /// Wraps the codes `[K, D]`; searches will use at most `budget_bytes` for scores.
    pub fn new(codes: Tensor<B, 2>, budget_bytes: usize) -> Self {
        let detached = codes.clone().detach();
        let squared_norms = detached.clone().square().sum_dim(1);
        let search_keys = Tensor::cat(vec![detached, squared_norms], 1);
        Self {
            codes,
            search_keys,
            budget_bytes,
        }
    }

    /// Number of codes `K`.
    pub fn size(&self) -> usize {
        self.codes.dims()[0]
    }

    /// Code dimension `D`.
    pub fn dim(&self) -> usize {
        self.codes.dims()[1]
    }

    /// The codes `[K, D]`, with their autodiff graph if they have one.
    pub fn codes(&self) -> Tensor<B, 2> {
        self.codes.clone()
    }

    /// Byte budget of the score tiles.
    pub fn budget_bytes(&self) -> usize {
        self.budget_bytes
    }

    /// Gathers the codes of `indices` (`[N]` → `[N, D]`); gradients flow into the codes.
    pub fn lookup(&self, indices: Tensor<B, 1, Int>) -> Tensor<B, 2> {
        self.codes.clone().select(0, indices)
    }

    /// Quantizes `z` (`[N, D]`) to its nearest codes: output through `estimator`, and the two
    /// VQ loss terms. Shapes are not checked here; the quantizers check them.
    pub fn quantize(
        &self,
        z: Tensor<B, 2>,
        weights: LossWeights,
        estimator: GradientEstimator,
    ) -> QuantizerOutput<B, 2, 1> {
        let indices = self.nearest(z.clone());
        let z_q = self.lookup(indices.clone());
        let loss = QuantLoss::without_entropy(
            mse(z_q.clone().detach(), z.clone()).mul_scalar(weights.commitment),
            mse(z_q.clone(), z.clone().detach()).mul_scalar(weights.codebook),
        );
        let quantized = estimator.apply(z, z_q);
        QuantizerOutput {
            quantized,
            indices,
            loss,
        }
    }

    /// Index of the nearest code (squared L2) for every row of `z` (`[N, D]` → `[N]`).
    ///
    /// Exact: the same indices as [`Codebook::nearest_naive`], ties going to the lowest index,
    /// with at most `budget_bytes` of scores alive at once. No gradient is recorded.
    ///
    /// On the GPU backends this crate was built for (`--features wgpu`, `cuda`) this is the
    /// fused kernel of [`Codebook::nearest_fused`], which needs no score memory at all; on any
    /// other backend, the tiled search of [`Codebook::nearest_tiled`].
    pub fn nearest(&self, z: Tensor<B, 2>) -> Tensor<B, 1, Int> {
        let queries = self.search_queries(z);
        if let Some(indices) = self.fused(&queries) {
            return indices;
        }
        let [n, _] = queries.dims();
        let tiling = SearchTiling::for_budget(n, self.size(), self.budget_bytes);
        self.tiled(queries, tiling)
    }

    /// [`Codebook::nearest`] on the generic tiled path with an explicit tiling, on any
    /// backend (benchmarks and tests pick their own tiling).
    pub fn nearest_tiled(&self, z: Tensor<B, 2>, tiling: SearchTiling) -> Tensor<B, 1, Int> {
        self.tiled(self.search_queries(z), tiling)
    }

    /// The tiled search of [`Codebook::nearest_tiled`] for prepared `[−2z, 1]` queries.
    fn tiled(&self, queries: Tensor<B, 2>, tiling: SearchTiling) -> Tensor<B, 1, Int> {
        let [n, _] = queries.dims();
        let k = self.size();
        let key_chunks: Vec<(usize, Tensor<B, 2>)> = (0..k)
            .step_by(tiling.codes)
            .map(|start| {
                let len = tiling.codes.min(k - start);
                (
                    start,
                    self.search_keys.clone().narrow(0, start, len).transpose(),
                )
            })
            .collect();
        let token_chunks: Vec<Tensor<B, 1, Int>> = (0..n)
            .step_by(tiling.tokens)
            .map(|start| {
                let rows = queries
                    .clone()
                    .narrow(0, start, tiling.tokens.min(n - start));
                best_codes(rows, &key_chunks)
            })
            .collect();
        Tensor::cat(token_chunks, 0)
    }

    /// The search as one fused GPU kernel (`crate::fused_search`): scores and running argmin
    /// in one pass, same score arithmetic and tie rule as the tiled search. `None` when `B` is
    /// not a backend with the kernel: burn-wgpu or burn-cuda (bare or under `Autodiff`, without
    /// burn's `fusion` feature) in a build with this crate's `wgpu` or `cuda` feature.
    pub fn nearest_fused(&self, z: Tensor<B, 2>) -> Option<Tensor<B, 1, Int>> {
        self.fused(&self.search_queries(z))
    }

    /// The fused search for prepared `[−2z, 1]` queries, where `B` has it.
    fn fused(&self, queries: &Tensor<B, 2>) -> Option<Tensor<B, 1, Int>> {
        #[cfg(any(feature = "wgpu", feature = "cuda"))]
        return crate::fused_dispatch::fused_nearest(queries, &self.search_keys);
        #[cfg(not(any(feature = "wgpu", feature = "cuda")))]
        {
            let _ = queries;
            None
        }
    }

    /// Reference search that materialises the whole `[N, K]` score matrix at once.
    ///
    /// Same arithmetic as [`Codebook::nearest`]; kept as the oracle for tests and the
    /// baseline for benchmarks. Do not use it for large `N·K`.
    pub fn nearest_naive(&self, z: Tensor<B, 2>) -> Tensor<B, 1, Int> {
        let scores = self
            .search_queries(z)
            .matmul(self.search_keys.clone().transpose());
        scores.argmin(1).squeeze_dim(1)
    }

    /// `[−2z, 1]` rows (`[N, D + 1]`), detached.
    ///
    /// argmin_j ‖z − e_j‖² = argmin_j (‖e_j‖² − 2 z·e_j): `‖z‖²` is constant along a row and
    /// left out. Scaling by −2 is exact in floating point.
    fn search_queries(&self, z: Tensor<B, 2>) -> Tensor<B, 2> {
        let z = z.detach();
        let ones = Tensor::ones([z.dims()[0], 1], &z.device());
        Tensor::cat(vec![z.mul_scalar(-2.0), ones], 1)
    }
}

/// Mean of squared differences over all elements, as `torch.nn.functional.mse_loss`.
pub(crate) fn mse<B: Backend>(a: Tensor<B, 2>, b: Tensor<B, 2>) -> Tensor<B, 1> {
    (a - b).square().mean()
}

/// Running (min, argmin) over key chunks for one chunk of query rows.
fn best_codes<B: Backend>(
    queries: Tensor<B, 2>,
    key_chunks: &[(usize, Tensor<B, 2>)],
) -> Tensor<B, 1, Int> {
    let mut best: Option<(Tensor<B, 2>, Tensor<B, 2, Int>)> = None;
    for (start, keys_t) in key_chunks {
        let scores = queries.clone().matmul(keys_t.clone());
        let (value, index) = scores.min_dim_with_indices(1);
        let index = index.add_scalar(*start as i64);
        best = Some(match best {
            None => (value, index),
            Some((best_value, best_index)) => {
                // Strictly lower only: on a tie the earlier chunk (lower index) is kept.
                let better = value.clone().lower(best_value.clone());
                (
                    best_value.mask_where(better.clone(), value),
                    best_index.mask_where(better, index),
                )
            }
        });
    }
    let (_, index) = best.expect("a codebook has at least one code");
    index.squeeze_dim(1)
}
