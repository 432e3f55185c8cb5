//! The optional in/out projections of quantizers whose quantized space has its own width
//! (FSQ: one axis per level, LFQ: one axis per bit, factorized VQ), as vector-quantize-pytorch
//! builds them, and the l2 normalisation of cosine-similarity codebooks.

use burn::nn::Linear;
use burn::tensor::{backend::Backend, Distribution, Tensor};
use rand::rngs::StdRng;

use crate::init::seeded_param;

/// `dim → inner` and `inner → dim` linear layers, or none when the widths agree. Weights and
/// biases `~ U(±1/√fan_in)` (PyTorch's `nn.Linear` default), drawn from `rng`.
pub(crate) fn projections<B: Backend>(
    dim: usize,
    inner: usize,
    bias: bool,
    rng: &mut StdRng,
    device: &B::Device,
) -> (Option<Linear<B>>, Option<Linear<B>>) {
    if dim == inner {
        return (None, None);
    }
    let mut layer = |from: usize, to: usize| {
        let bound = (from as f64).powf(-0.5);
        let uniform = Distribution::Uniform(-bound, bound);
        // burn's Linear stores its weight as [d_in, d_out].
        let weight = seeded_param([from, to], uniform, rng, true, device);
        let bias = bias.then(|| seeded_param([to], uniform, rng, true, device));
        Linear { weight, bias }
    };
    let project_in = layer(dim, inner);
    let project_out = layer(inner, dim);
    (Some(project_in), Some(project_out))
}

/// `x` through `layer`, or unchanged without one.
pub(crate) fn project<B: Backend>(layer: &Option<Linear<B>>, x: Tensor<B, 2>) -> Tensor<B, 2> {
    match layer {
        Some(linear) => linear.forward(x),
        None => x,
    }
}

/// `x / max(‖x‖, 1e-6)` per row, as `torch.nn.functional.normalize`.
pub(crate) fn l2_normalize<B: Backend>(x: Tensor<B, 2>) -> Tensor<B, 2> {
    let norm = x.clone().square().sum_dim(1).sqrt().clamp_min(1e-6);
    x / norm
}
