//! The quantizers compared across backends: every quantizer of `simvq-quant` forward and
//! backward, residual SimVQ, and the tie rule of the tiled nearest-code search.

use burn::module::AutodiffModule;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor, TensorData};
use simvq_quant::{AnyQuantizer, Codebook, Quantizer, QuantizerConfig, ResidualSimVqConfig};
use simvq_testkit::closed_form;

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

/// The tiled nearest-code search on a codebook whose codes come in identical pairs and
/// triples, so every query has tied nearest codes: the lowest index must win, in every tile.
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
    let nearest = Codebook::new(codes, 64 * 5 * 4).nearest(queries);
    nearest
        .into_data()
        .convert::<i64>()
        .to_vec()
        .expect("indices")
}
