//! The PatchGAN discriminator (taming's `NLayerDiscriminator`).

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, PaddingConfig2d};
use burn::tensor::activation::leaky_relu;
use burn::tensor::{backend::Backend, Tensor};

use crate::fast_conv2d::conv2d_forward;

/// Slope of every LeakyReLU in the discriminator.
const SLOPE: f64 = 0.2;

/// Configuration of [`PatchDiscriminator`]; defaults are the reference's.
#[derive(Config, Debug)]
pub struct PatchDiscriminatorConfig {
    /// Image channels.
    #[config(default = 3)]
    pub in_channels: usize,
    /// Width of the first conv (`ndf`).
    #[config(default = 64)]
    pub base_channels: usize,
    /// Number of BatchNorm'd conv layers (`n_layers`).
    #[config(default = 3)]
    pub layers: usize,
    /// Images per BatchNorm statistics group (0: the whole batch). The reference trains on
    /// 4 GPUs with 64 images each, so its BatchNorm normalises over groups of 64; setting this
    /// to 64 reproduces that on one device with a batch of 256.
    #[config(default = 0)]
    pub batchnorm_batch: usize,
}

/// A 4×4 conv with padding 1: weights `N(0, 0.02)` as taming's `weights_init`; the biases keep
/// PyTorch's default `U(±1/√fan_in)` (taming does not touch them).
fn patch_conv<B: Backend>(
    cin: usize,
    cout: usize,
    stride: usize,
    bias: bool,
    device: &B::Device,
) -> Conv2d<B> {
    let mut conv = Conv2dConfig::new([cin, cout], [4, 4])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(false)
        .with_initializer(Initializer::Normal {
            mean: 0.0,
            std: 0.02,
        })
        .init(device);
    if bias {
        let bound = 1.0 / ((cin * 16) as f64).sqrt();
        conv.bias = Some(
            Initializer::Uniform {
                min: -bound,
                max: bound,
            }
            .init([cout], device),
        );
    }
    conv
}

impl PatchDiscriminatorConfig {
    /// Builds the discriminator with the reference's init.
    pub fn init<B: Backend>(&self, device: &B::Device) -> PatchDiscriminator<B> {
        let ndf = self.base_channels;
        let input = patch_conv(self.in_channels, ndf, 2, true, device);
        let mut width = ndf;
        let blocks = (1..=self.layers)
            .map(|n| {
                let out = ndf * (1 << n.min(3));
                let stride = if n < self.layers { 2 } else { 1 };
                let mut norm = BatchNormConfig::new(out).init(device);
                norm.gamma = Initializer::Normal {
                    mean: 1.0,
                    std: 0.02,
                }
                .init([out], device);
                let block = DiscriminatorBlock {
                    conv: patch_conv(width, out, stride, false, device),
                    norm,
                };
                width = out;
                block
            })
            .collect();
        PatchDiscriminator {
            input,
            blocks,
            output: patch_conv(width, 1, 1, true, device),
            batchnorm_batch: self.batchnorm_batch,
        }
    }
}

/// Bias-free strided conv, BatchNorm, LeakyReLU.
#[derive(Module, Debug)]
pub struct DiscriminatorBlock<B: Backend> {
    conv: Conv2d<B>,
    norm: BatchNorm<B>,
}

/// PatchGAN: `[B, 3, H, W]` → patch logits `[B, 1, h, w]` (14×14 for 128² images).
///
/// BatchNorm uses batch statistics whenever autodiff is on (every training pass, as in the
/// reference, where the discriminator never leaves train mode).
#[derive(Module, Debug)]
pub struct PatchDiscriminator<B: Backend> {
    input: Conv2d<B>,
    blocks: Vec<DiscriminatorBlock<B>>,
    output: Conv2d<B>,
    batchnorm_batch: usize,
}

impl<B: Backend> PatchDiscriminator<B> {
    /// Patch logits of `images`, BatchNorm statistics taken over groups of
    /// [`PatchDiscriminatorConfig::batchnorm_batch`] images.
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 4> {
        let batch = images.dims()[0];
        if self.batchnorm_batch == 0 || batch <= self.batchnorm_batch {
            return self.forward_group(images);
        }
        let logits = images
            .split(self.batchnorm_batch, 0)
            .into_iter()
            .map(|group| self.forward_group(group))
            .collect();
        Tensor::cat(logits, 0)
    }

    /// Patch logits of one BatchNorm group.
    fn forward_group(&self, images: Tensor<B, 4>) -> Tensor<B, 4> {
        let mut h = leaky_relu(conv2d_forward(&self.input, images), SLOPE);
        for block in &self.blocks {
            h = leaky_relu(block.norm.forward(conv2d_forward(&block.conv, h)), SLOPE);
        }
        conv2d_forward(&self.output, h)
    }
}
