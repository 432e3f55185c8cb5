//! The PatchGAN discriminator (taming's `NLayerDiscriminator`).

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, PaddingConfig2d};
use burn::tensor::activation::leaky_relu;
use burn::tensor::{backend::Backend, Tensor};
use simvq_quant::SeededInit;

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
    init: &SeededInit<B>,
) -> Conv2d<B> {
    let mut conv = init.conv2d(
        &Conv2dConfig::new([cin, cout], [4, 4])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .with_bias(false)
            .with_initializer(Initializer::Normal {
                mean: 0.0,
                std: 0.02,
            }),
    );
    if bias {
        let fan_in = cin * 16;
        let bound = 1.0 / (fan_in as f64).sqrt();
        let uniform = Initializer::Uniform {
            min: -bound,
            max: bound,
        };
        conv.bias = Some(init.param(&uniform, [cout], fan_in, cout * 16));
    }
    conv
}

impl PatchDiscriminatorConfig {
    /// Builds the discriminator with the reference's init drawn from seed 0
    /// ([`init_seeded`](Self::init_seeded) takes another).
    pub fn init<B: Backend>(&self, device: &B::Device) -> PatchDiscriminator<B> {
        self.init_seeded(&SeededInit::new(0, device))
    }

    /// Builds the discriminator with the reference's init drawn from `init`.
    pub fn init_seeded<B: Backend>(&self, init: &SeededInit<B>) -> PatchDiscriminator<B> {
        let ndf = self.base_channels;
        let input = patch_conv(self.in_channels, ndf, 2, true, init);
        let mut width = ndf;
        let blocks = (1..=self.layers)
            .map(|n| {
                let out = ndf * (1 << n.min(3));
                let stride = if n < self.layers { 2 } else { 1 };
                let mut norm = BatchNormConfig::new(out).init(init.device());
                let gamma = Initializer::Normal {
                    mean: 1.0,
                    std: 0.02,
                };
                norm.gamma = init.param(&gamma, [out], out, out);
                let block = DiscriminatorBlock {
                    conv: patch_conv(width, out, stride, false, init),
                    norm,
                };
                width = out;
                block
            })
            .collect();
        PatchDiscriminator {
            input,
            blocks,
            output: patch_conv(width, 1, 1, true, init),
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
