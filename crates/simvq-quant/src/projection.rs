//! The optional in/out projections of quantizers whose quantized space has its own width
//! (FSQ: one axis per level, LFQ: one axis per bit, factorized VQ), as vector-quantize-pytorch
//! builds them, and the l2 normalisation of cosine-similarity codebooks.

use burn::nn::{Linear, LinearConfig};
use burn::tensor::{backend::Backend, Tensor};

/// `dim → inner` and `inner → dim` linear layers, or none when the widths agree.
pub(crate) fn projections<B: Backend>(
    dim: usize,
    inner: usize,
    bias: bool,
    device: &B::Device,
) -> (Option<Linear<B>>, Option<Linear<B>>) {
    if dim == inner {
        return (None, None);
    }
    let layer = |from, to| LinearConfig::new(from, to).with_bias(bias).init(device);
    (Some(layer(dim, inner)), Some(layer(inner, dim)))
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
