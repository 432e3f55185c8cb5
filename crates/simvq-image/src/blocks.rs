//! The building blocks shared by the encoder and decoder (Open-MAGVIT2's `improved_model.py`).

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{GroupNorm, GroupNormConfig, PaddingConfig2d};
use burn::tensor::activation::silu;
use burn::tensor::{backend::Backend, Tensor};
use simvq_quant::SeededInit;

use crate::fast_conv2d::conv2d_forward;
use crate::group_norm::group_norm_forward;

/// GroupNorm groups of every norm layer in the tokenizer.
pub const NORM_GROUPS: usize = 32;
/// GroupNorm epsilon of every norm layer in the tokenizer.
const NORM_EPS: f64 = 1e-6;

/// `GroupNorm(32, channels, eps 1e-6)`.
pub(crate) fn group_norm<B: Backend>(channels: usize, device: &B::Device) -> GroupNorm<B> {
    GroupNormConfig::new(NORM_GROUPS, channels)
        .with_epsilon(NORM_EPS)
        .init(device)
}

/// A `k×k` convolution, stride 1, "same" padding, with or without bias.
pub(crate) fn conv<B: Backend>(
    cin: usize,
    cout: usize,
    kernel: usize,
    bias: bool,
    init: &SeededInit<B>,
) -> Conv2d<B> {
    let pad = kernel / 2;
    init.conv2d(
        &Conv2dConfig::new([cin, cout], [kernel, kernel])
            .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
            .with_bias(bias),
    )
}

/// `GroupNorm → swish`, the pre-activation used before every conv of the tokenizer.
pub(crate) fn norm_swish<B: Backend>(norm: &GroupNorm<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    silu(group_norm_forward(norm, x))
}

/// Configuration of a [`ResBlock`].
#[derive(Config, Debug)]
pub struct ResBlockConfig {
    /// Input channels.
    pub channels_in: usize,
    /// Output channels.
    pub channels_out: usize,
}

impl ResBlockConfig {
    /// Builds the block with PyTorch's default conv init, drawn from `init`.
    pub fn init<B: Backend>(&self, init: &SeededInit<B>) -> ResBlock<B> {
        let (cin, cout) = (self.channels_in, self.channels_out);
        let device = init.device();
        ResBlock {
            norm1: group_norm(cin, device),
            conv1: conv(cin, cout, 3, false, init),
            norm2: group_norm(cout, device),
            conv2: conv(cout, cout, 3, false, init),
            nin_shortcut: (cin != cout).then(|| conv(cin, cout, 1, false, init)),
        }
    }
}

/// `x + conv(swish(norm(conv(swish(norm(x))))))` with bias-free convs, and a bias-free 1×1
/// shortcut when the width changes. No dropout, no attention (the reference has neither).
#[derive(Module, Debug)]
pub struct ResBlock<B: Backend> {
    norm1: GroupNorm<B>,
    conv1: Conv2d<B>,
    norm2: GroupNorm<B>,
    conv2: Conv2d<B>,
    nin_shortcut: Option<Conv2d<B>>,
}

impl<B: Backend> ResBlock<B> {
    /// `[B, cin, H, W] → [B, cout, H, W]`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let h = conv2d_forward(&self.conv1, norm_swish(&self.norm1, x.clone()));
        let h = conv2d_forward(&self.conv2, norm_swish(&self.norm2, h));
        let shortcut = match &self.nin_shortcut {
            Some(conv) => conv2d_forward(conv, x),
            None => x,
        };
        shortcut + h
    }
}

/// `count` residual blocks taking `width_in` channels to `width_out`; only the first one
/// changes the width (and so has a shortcut conv).
pub(crate) fn res_block_stack<B: Backend>(
    width_in: usize,
    width_out: usize,
    count: usize,
    init: &SeededInit<B>,
) -> Vec<ResBlock<B>> {
    (0..count)
        .map(|i| {
            let cin = if i == 0 { width_in } else { width_out };
            ResBlockConfig::new(cin, width_out).init(init)
        })
        .collect()
}

/// 2× upsampling: a 3×3 conv `c → 4c` (with bias), then depth-to-space in DCR order.
#[derive(Module, Debug)]
pub struct Upsampler<B: Backend> {
    conv1: Conv2d<B>,
}

impl<B: Backend> Upsampler<B> {
    /// Builds the upsampler for `channels` channels.
    pub fn new(channels: usize, init: &SeededInit<B>) -> Self {
        Self {
            conv1: conv(channels, 4 * channels, 3, true, init),
        }
    }

    /// `[B, c, H, W] → [B, c, 2H, 2W]`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        depth_to_space_dcr(conv2d_forward(&self.conv1, x), 2)
    }
}

/// Depth-to-space in "DCR" order, as the reference's `depth_to_space`:
/// `out[n, c, h·s + i, w·s + j] = in[n, (i·s + j)·C + c, h, w]` with `C = channels / s²`.
///
/// PyTorch's `pixel_shuffle` reads channel `c·s² + i·s + j` instead; using it with released
/// weights scrambles every upsampled feature map.
pub fn depth_to_space_dcr<B: Backend>(x: Tensor<B, 4>, block: usize) -> Tensor<B, 4> {
    let [n, channels, h, w] = x.dims();
    let c = channels / (block * block);
    x.reshape([n, block, block, c, h, w])
        .permute([0, 3, 4, 1, 5, 2])
        .reshape([n, c, h * block, w * block])
}
