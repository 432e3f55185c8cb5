//! The decoder: quantized latent `[B, z, h, w]` → image `[B, 3, h·f, w·f]`.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::GroupNorm;
use burn::tensor::{backend::Backend, Tensor};
use simvq_quant::SeededInit;

use crate::blocks::{conv, group_norm, norm_swish, res_block_stack, ResBlock, Upsampler};
use crate::config::AutoencoderConfig;
use crate::fast_conv2d::conv2d_forward;

/// One resolution level: residual blocks, then (except at level 0) a 2× [`Upsampler`].
#[derive(Module, Debug)]
pub struct UpLevel<B: Backend> {
    block: Vec<ResBlock<B>>,
    upsample: Option<Upsampler<B>>,
}

/// The reference decoder (Open-MAGVIT2's `Decoder`): `conv_in` with bias, two middle blocks,
/// levels from the coarsest up with DCR upsamplers, `GroupNorm → swish → conv_out`.
/// No output `tanh`: reconstructions are clamped only for evaluation.
#[derive(Module, Debug)]
pub struct Decoder<B: Backend> {
    conv_in: Conv2d<B>,
    mid_block: Vec<ResBlock<B>>,
    /// Indexed by resolution level like the reference's `up` list: `up[0]` is the finest and
    /// runs last.
    up: Vec<UpLevel<B>>,
    norm_out: GroupNorm<B>,
    conv_out: Conv2d<B>,
}

impl AutoencoderConfig {
    /// Builds the decoder of `config` (assumed validated).
    pub fn init_decoder<B: Backend>(&self, init: &SeededInit<B>) -> Decoder<B> {
        let config = self;
        let levels = config.channel_multipliers.len();
        let mut width = config.width(levels - 1);
        let conv_in = conv(config.z_channels, width, 3, true, init);
        let mid_block = res_block_stack(width, width, config.res_blocks, init);
        let mut up: Vec<UpLevel<B>> = (0..levels)
            .rev()
            .map(|level| {
                let out = config.width(level);
                let block = res_block_stack(width, out, config.res_blocks, init);
                width = out;
                let upsample = (level > 0).then(|| Upsampler::new(out, init));
                UpLevel { block, upsample }
            })
            .collect();
        up.reverse();
        Decoder {
            conv_in,
            mid_block,
            up,
            norm_out: group_norm(width, init.device()),
            conv_out: conv(width, config.image_channels, 3, true, init),
        }
    }
}

impl<B: Backend> Decoder<B> {
    /// `[B, z, h, w] → [B, C, h·f, w·f]`, unclamped.
    pub fn forward(&self, z: Tensor<B, 4>) -> Tensor<B, 4> {
        let mut h = conv2d_forward(&self.conv_in, z);
        for block in &self.mid_block {
            h = block.forward(h);
        }
        for level in self.up.iter().rev() {
            for block in &level.block {
                h = block.forward(h);
            }
            if let Some(upsample) = &level.upsample {
                h = upsample.forward(h);
            }
        }
        conv2d_forward(&self.conv_out, norm_swish(&self.norm_out, h))
    }
}
