//! The quantizers compared across backends: every quantizer of `simvq-quant` forward and
//! backward, residual SimVQ, the tie rule of the nearest-code search, and its fused GPU kernel
//! against the generic tiled path.

use burn::module::AutodiffModule;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor, TensorData};
use simvq_quant::{AnyQuantizer, Codebook, Quantizer, QuantizerConfig, ResidualSimVqConfig};
use simvq_testkit::{broadband_at, closed_form};

use crate::probes::input;
use crate::values::Values;

/// Latents of the quantizer probes: 2,048 rows, enough to reach most of a 1,024-code book.
const ROWS: usize = 2048;

/// One forward and backward of the quantizer `config` builds (its own seed: no backend RNG)
/// on `dim`-wide latents: indices, quantized values, the loss, the gradient of the latents and
/// of every parameter, and for EMA VQ the codebook its forward moved.
pub fn quantizer_pass<B: AutodiffBackend>(
    config: &QuantizerConfig,
    dim: usize,
    device: &B::Device,
) -> Values {
    let _autodiff = simvq_quant::autodiff_lock();
    let quantizer = config.init::<B>(device).expect("valid config");
    let z = input::<B, 2>([ROWS, dim], 1.0, 1.0, device).require_grad();
    let out = quantizer.forward(z.clone()).expect("valid input");
    let mut values = backward(&quantizer, z, &out.indices, out.quantized, out.loss.total());
    if let AnyQuantizer::EmaVq(ema) = &quantizer {
        values.float("EMA codebook after", &ema.codebook.value_sync());
    }
    values
}

/// Residual SimVQ with every level on: per-level indices, the sum of the levels' codes, the
/// summed loss and the gradients of the latents and of every level's `W` and `b`.
pub fn residual_pass<B: AutodiffBackend>(
    config: &ResidualSimVqConfig,
    device: &B::Device,
) -> Values {
    let _autodiff = simvq_quant::autodiff_lock();
    let quantizer = config.init::<B>(device).expect("valid config");
    let z = input::<B, 2>([ROWS, quantizer.dim()], 7.0, 1.0, device).require_grad();
    let out = quantizer
        .forward(z.clone(), quantizer.num_quantizers())
        .expect("valid input");
    let total = out.total_loss();
    backward(&quantizer, z, &out.indices, out.quantized, total)
}

/// The backward of `quantizer`'s own loss plus a loss on its output (so the codes' gradient
/// path is used too), and every value of the pass: indices, quantized values, the loss, the
/// gradients of the latents `z` and of every parameter.
fn backward<B: AutodiffBackend, M: AutodiffModule<B>, const I: usize>(
    quantizer: &M,
    z: Tensor<B, 2>,
    indices: &Tensor<B, I, Int>,
    quantized: Tensor<B, 2>,
    quantizer_loss: Tensor<B, 1>,
) -> Values {
    let loss = quantizer_loss + quantized.clone().powi_scalar(2).mean() * 0.5;
    let grads = loss.backward();
    let mut values = Values::default();
    values.int("indices", indices);
    values.float("quantized", &quantized);
    values.float("loss", &loss);
    values.float("grad z", &z.grad(&grads).expect("z is used"));
    values.gradients("grad quantizer", quantizer, &grads);
    values
}

/// `Codebook::nearest` (the fused kernel on a GPU backend, else the tiled search) on a
/// codebook whose codes come in identical pairs and triples, so every query has tied nearest
/// codes: the lowest index must win, in every tile.
pub fn tied_search<B: Backend>(device: &B::Device) -> Vec<i64> {
    let distinct = closed_form(64 * 8, 2.0, 1.0, 0.0);
    // Code k is distinct code k / 3 (codes 0–2 equal, 3–5 equal, …): 192 codes.
    let codes: Vec<f32> = (0..192)
        .flat_map(|k| distinct[(k / 3) * 8..(k / 3 + 1) * 8].to_vec())
        .collect();
    let codes = Tensor::<B, 2>::from_data(TensorData::new(codes, [192, 8]), device);
    // Queries: the distinct codes themselves, plus a little closed-form noise.
    let noise = closed_form(64 * 8, 3.0, 1e-3, 0.0);
    let queries: Vec<f32> = distinct.iter().zip(&noise).map(|(c, n)| c + n).collect();
    let queries = Tensor::<B, 2>::from_data(TensorData::new(queries, [64, 8]), device);
    // A budget of a few rows per tile: the ties straddle tile edges.
    host(Codebook::new(codes, 64 * 5 * 4).nearest(queries))
}

/// The nearest codes (`[N]`) of one search by each path a backend has.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPaths {
    /// [`Codebook::nearest_fused`]: `None` where the backend has no fused kernel.
    pub fused: Option<Vec<i64>>,
    /// The generic tiled search, in tiles of 100 codes so tile edges fall inside the codebook.
    pub tiled: Vec<i64>,
    /// [`Codebook::nearest`], the search the quantizers run.
    pub nearest: Vec<i64>,
}

/// Every search path of `B` for `queries` (`[N, dim]`, row-major) against `codes` (`[K, dim]`).
pub fn search_paths<B: Backend>(
    codes: &[f32],
    queries: &[f32],
    dim: usize,
    device: &B::Device,
) -> SearchPaths {
    let matrix = |values: &[f32]| {
        Tensor::<B, 2>::from_data(
            TensorData::new(values.to_vec(), [values.len() / dim, dim]),
            device,
        )
    };
    let codebook = Codebook::new(matrix(codes), simvq_quant::DEFAULT_SEARCH_BUDGET_BYTES);
    let n = queries.len() / dim;
    let tiling = simvq_quant::SearchTiling {
        tokens: n.min(512),
        codes: 100,
    };
    SearchPaths {
        fused: codebook.nearest_fused(matrix(queries)).map(host),
        tiled: host(codebook.nearest_tiled(matrix(queries), tiling)),
        nearest: host(codebook.nearest(matrix(queries))),
    }
}

/// `rows × dim` small integers in −4..=4, row-major: every score of a search between such
/// points (−2z·e + ‖e‖², at most a few thousand) is exact in f32 whatever the summation
/// order, and many codes tie.
pub fn integer_points(rows: usize, dim: usize, salt: f64) -> Vec<f32> {
    (0..rows * dim)
        .map(|i| (4.0 * broadband_at(i, salt, 1.0)).round() as f32)
        .collect()
}

/// `rows × dim` real values in −1..1 without a short period (a chirp), row-major.
pub fn chirp_points(rows: usize, dim: usize, salt: f64) -> Vec<f32> {
    (0..rows * dim)
        .map(|i| broadband_at(i, salt, 1.0) as f32)
        .collect()
}

/// `|‖z − e_a‖² − ‖z − e_b‖²|` in f64 for query row `row`, relative to `‖z‖² + ‖e_a‖²`:
/// how close codes `a` and `b` are to a tie for that query.
pub fn relative_tie_gap(
    codes: &[f32],
    queries: &[f32],
    dim: usize,
    row: usize,
    a: i64,
    b: i64,
) -> f64 {
    let z = &queries[row * dim..(row + 1) * dim];
    let code = |k: i64| &codes[k as usize * dim..(k as usize + 1) * dim];
    let distance = |e: &[f32]| -> f64 {
        z.iter()
            .zip(e)
            .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
            .sum()
    };
    let scale: f64 = z.iter().chain(code(a)).map(|&x| (x as f64).powi(2)).sum();
    (distance(code(a)) - distance(code(b))).abs() / scale.max(f64::MIN_POSITIVE)
}

fn host<B: Backend>(indices: Tensor<B, 1, Int>) -> Vec<i64> {
    indices
        .into_data()
        .convert::<i64>()
        .to_vec()
        .expect("indices")
}
