//! EnCodec's `SConv1d` as SEANet uses it: a weight-normalised 1-D convolution with causal
//! reflect padding.

use burn::module::{Module, Param};
use burn::nn::conv::Conv1dConfig;
use burn::tensor::ops::PadMode;
use burn::tensor::{backend::Backend, Tensor};
use simvq_quant::SeededInit;

/// `w = g · v / ‖v‖` (norm per output channel), then a causal convolution: the input is padded
/// on the left by `(k − 1)·d − (s − 1)` and on the right just enough for a whole last frame,
/// both by reflection, so `T` samples give `ceil(T / s)` outputs.
#[derive(Module, Debug)]
pub struct WeightNormConv1d<B: Backend> {
    /// Direction `v`, `[out, in, k]`.
    pub weight_v: Param<Tensor<B, 3>>,
    /// Magnitude `g`, `[out, 1, 1]`.
    pub weight_g: Param<Tensor<B, 3>>,
    /// Bias `[out]`.
    pub bias: Param<Tensor<B, 1>>,
    stride: usize,
    dilation: usize,
}

impl<B: Backend> WeightNormConv1d<B> {
    /// PyTorch's default conv init for `v` and the bias, and `g = ‖v‖`, so that `w = v` at
    /// init (what `torch.nn.utils.weight_norm` does).
    pub fn new(
        channels_in: usize,
        channels_out: usize,
        kernel: usize,
        stride: usize,
        dilation: usize,
        init: &SeededInit<B>,
    ) -> Self {
        let conv = init.conv1d(&Conv1dConfig::new(channels_in, channels_out, kernel));
        let (weight_v, weight_g) = weight_norm_params(conv.weight.val());
        Self {
            weight_v,
            weight_g,
            bias: conv.bias.expect("Conv1dConfig has a bias by default"),
            stride,
            dilation,
        }
    }

    /// The effective weight `g · v / ‖v‖`.
    pub fn weight(&self) -> Tensor<B, 3> {
        weight_norm_weight(self.weight_v.val(), self.weight_g.val())
    }

    /// `[B, in, T] → [B, out, ceil(T / stride)]`.
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let kernel = self.weight_v.val().dims()[2];
        let effective = (kernel - 1) * self.dilation + 1;
        let total = effective - self.stride;
        let length = x.dims()[2];
        let extra = extra_padding(length, effective, self.stride, total);
        let padded = reflect_pad(x, total, extra);
        burn::tensor::module::conv1d(
            padded,
            self.weight(),
            Some(self.bias.val()),
            burn::tensor::ops::ConvOptions::new([self.stride], [0], [self.dilation], 1),
        )
    }
}

/// Norm of each output channel's weights (`torch.nn.utils.weight_norm` with `dim=0`), shaped
/// `[out, 1, …, 1]`.
fn norm_per_output<B: Backend, const D: usize>(v: Tensor<B, D>) -> Tensor<B, D> {
    let dims = v.dims();
    let mut keep = [1usize; D];
    keep[0] = dims[0];
    v.reshape([dims[0] as i32, -1])
        .powf_scalar(2.0)
        .sum_dim(1)
        .sqrt()
        .reshape(keep)
}

/// `(v, g)` parameters of a weight-normalised layer whose plain weight is `weight`: `v = w`,
/// `g = ‖w‖` per output channel, so the layer starts out equal to the plain one (as
/// `weight_norm` does). Fresh leaves: under autodiff `g` is computed from `v`, and only leaves
/// can be parameters.
pub(crate) fn weight_norm_params<B: Backend, const D: usize>(
    weight: Tensor<B, D>,
) -> (Param<Tensor<B, D>>, Param<Tensor<B, D>>) {
    let g = norm_per_output(weight.clone());
    (
        Param::from_tensor(weight.detach()),
        Param::from_tensor(g.detach()),
    )
}

/// The effective weight `g · v / ‖v‖`.
pub(crate) fn weight_norm_weight<B: Backend, const D: usize>(
    v: Tensor<B, D>,
    g: Tensor<B, D>,
) -> Tensor<B, D> {
    let norm = norm_per_output(v.clone());
    v * (g / norm)
}

/// EnCodec's `get_extra_padding_for_conv1d`: right padding that completes the last frame.
pub fn extra_padding(length: usize, kernel: usize, stride: usize, total_padding: usize) -> usize {
    let frames = (length as f64 + total_padding as f64 - kernel as f64) / stride as f64 + 1.0;
    let frames = (frames.ceil() as usize).max(1);
    let ideal = (frames - 1) * stride + (kernel - total_padding);
    ideal.saturating_sub(length)
}

/// EnCodec's `pad1d` in reflect mode: signals shorter than the padding are zero-extended first
/// (reflection needs more samples than it pads), and the extension is cut off again.
pub fn reflect_pad<B: Backend>(x: Tensor<B, 3>, left: usize, right: usize) -> Tensor<B, 3> {
    if left == 0 && right == 0 {
        return x;
    }
    let length = x.dims()[2];
    let max_pad = left.max(right);
    if length <= max_pad {
        let extend = max_pad - length + 1;
        let extended = x.pad([(0, extend)], PadMode::Constant(0.0));
        let padded = extended.pad([(left, right)], PadMode::Reflect);
        let end = padded.dims()[2] - extend;
        return padded.narrow(2, 0, end);
    }
    x.pad([(left, right)], PadMode::Reflect)
}
