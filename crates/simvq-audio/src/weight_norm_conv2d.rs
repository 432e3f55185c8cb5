//! A weight-normalised 2-D convolution, as the discriminators' `weight_norm(Conv2d)`.

use burn::module::{Module, Param};
use burn::nn::conv::Conv2dConfig;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{backend::Backend, Tensor};

use crate::conv::{weight_norm_params, weight_norm_weight};
use simvq_quant::SeededInit;

/// A weight-normalised 2-D convolution (`w = g · v / ‖v‖` per output channel).
#[derive(Module, Debug)]
pub struct WeightNormConv2d<B: Backend> {
    /// Direction `v`, `[out, in, kh, kw]`.
    pub weight_v: Param<Tensor<B, 4>>,
    /// Magnitude `g`, `[out, 1, 1, 1]`.
    pub weight_g: Param<Tensor<B, 4>>,
    /// Bias `[out]`.
    pub bias: Param<Tensor<B, 1>>,
    stride: [usize; 2],
    padding: [usize; 2],
}

impl<B: Backend> WeightNormConv2d<B> {
    /// PyTorch's default init for `v` and the bias, `g = ‖v‖` (as `weight_norm` sets it).
    pub fn new(
        channels: [usize; 2],
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        init: &SeededInit<B>,
    ) -> Self {
        let conv = init.conv2d(&Conv2dConfig::new(channels, kernel));
        let (weight_v, weight_g) = weight_norm_params(conv.weight.val());
        Self {
            weight_v,
            weight_g,
            bias: conv.bias.expect("Conv2dConfig has a bias by default"),
            stride,
            padding,
        }
    }

    /// `[B, in, H, W] → [B, out, H', W']`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        conv2d(
            x,
            weight_norm_weight(self.weight_v.val(), self.weight_g.val()),
            Some(self.bias.val()),
            ConvOptions::new(self.stride, self.padding, [1, 1], 1),
        )
    }
}
