//! The encoder: image `[B, 3, H, W]` → latent `[B, z, H/f, W/f]`.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{GroupNorm, PaddingConfig2d};
use burn::tensor::{backend::Backend, Tensor};
use simvq_quant::SeededInit;

use crate::blocks::{conv, group_norm, norm_swish, res_block_stack, ResBlock};
use crate::config::AutoencoderConfig;
use crate::fast_conv2d::conv2d_forward;

/// One resolution level: residual blocks, then (except at the last level) a strided conv.
#[derive(Module, Debug)]
pub struct DownLevel<B: Backend> {
    block: Vec<ResBlock<B>>,
    downsample: Option<Conv2d<B>>,
}

/// The reference encoder (Open-MAGVIT2's `Encoder`): bias-free `conv_in`, levels of residual
/// blocks with 3×3 stride-2 downsampling convs, two middle blocks, `GroupNorm → swish →` 1×1
/// `conv_out`. No attention.
#[derive(Module, Debug)]
pub struct Encoder<B: Backend> {
    conv_in: Conv2d<B>,
    down: Vec<DownLevel<B>>,
    mid_block: Vec<ResBlock<B>>,
    norm_out: GroupNorm<B>,
    conv_out: Conv2d<B>,
}

impl AutoencoderConfig {
    /// Builds the encoder of `config` (assumed validated).
    pub fn init_encoder<B: Backend>(&self, init: &SeededInit<B>) -> Encoder<B> {
        let config = self;
        let levels = config.channel_multipliers.len();
        let mut width = config.channels;
        let conv_in = conv(config.image_channels, width, 3, false, init);
        let down = (0..levels)
            .map(|level| {
                let out = config.width(level);
                let block = res_block_stack(width, out, config.res_blocks, init);
                width = out;
                let downsample = (level + 1 < levels).then(|| {
                    init.conv2d(
                        &Conv2dConfig::new([out, out], [3, 3])
                            .with_stride([2, 2])
                            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)),
                    )
                });
                DownLevel { block, downsample }
            })
            .collect();
        let mid_block = res_block_stack(width, width, config.res_blocks, init);
        Encoder {
            conv_in,
            down,
            mid_block,
            norm_out: group_norm(width, init.device()),
            conv_out: conv(width, config.z_channels, 1, true, init),
        }
    }
}

impl<B: Backend> Encoder<B> {
    /// `[B, C, H, W] → [B, z, H/f, W/f]` (shape checked by the tokenizer).
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let mut h = conv2d_forward(&self.conv_in, x);
        for level in &self.down {
            for block in &level.block {
                h = block.forward(h);
            }
            if let Some(downsample) = &level.downsample {
                h = conv2d_forward(downsample, h);
            }
        }
        for block in &self.mid_block {
            h = block.forward(h);
        }
        conv2d_forward(&self.conv_out, norm_swish(&self.norm_out, h))
    }
}
