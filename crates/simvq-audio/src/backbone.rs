//! The Vocos backbone (WavTokenizer's variant): embedding conv, a `pos_net` of residual blocks
//! around one self-attention block, and ConvNeXt blocks. `[B, 512, T] → [B, T, 768]`.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{
    GroupNorm, GroupNormConfig, Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig,
    PaddingConfig1d,
};
use burn::tensor::activation::{silu, softmax};
use burn::tensor::{backend::Backend, Tensor};
use simvq_quant::SeededInit;

use crate::exact_gelu::exact_gelu;
use crate::seeded_dropout::{DropoutRng, SeededDropout};

/// Configuration of [`VocosBackbone`]; defaults are the reference's.
#[derive(Config, Debug, PartialEq)]
pub struct VocosConfig {
    /// Input width (the code dimension).
    #[config(default = 512)]
    pub input_channels: usize,
    /// Model width.
    #[config(default = 768)]
    pub dim: usize,
    /// Hidden width of the ConvNeXt MLPs.
    #[config(default = 2304)]
    pub intermediate_dim: usize,
    /// ConvNeXt blocks.
    #[config(default = 12)]
    pub layers: usize,
    /// Dropout inside the `pos_net` residual blocks.
    #[config(default = 0.1)]
    pub dropout: f64,
}

const NORM_GROUPS: usize = 32;
const EPS: f64 = 1e-6;

fn conv1d<B: Backend>(cin: usize, cout: usize, kernel: usize, init: &SeededInit<B>) -> Conv1d<B> {
    init.conv1d(
        &Conv1dConfig::new(cin, cout, kernel)
            .with_padding(PaddingConfig1d::Explicit(kernel / 2, kernel / 2)),
    )
}

fn group_norm<B: Backend>(channels: usize, device: &B::Device) -> GroupNorm<B> {
    GroupNormConfig::new(NORM_GROUPS, channels)
        .with_epsilon(EPS)
        .init(device)
}

/// Vocos' init (`trunc_normal_(std=0.02)`, bias 0; truncation at ±2 is beyond reach at this
/// std, so a plain normal): applied to the embedding and the ConvNeXt blocks only.
const TRUNC_NORMAL: Initializer = Initializer::Normal {
    mean: 0.0,
    std: 0.02,
};

/// `x + conv(dropout(swish(norm(conv(swish(norm(x)))))))`.
#[derive(Module, Debug)]
pub struct PosNetResBlock<B: Backend> {
    norm1: GroupNorm<B>,
    conv1: Conv1d<B>,
    norm2: GroupNorm<B>,
    dropout: SeededDropout,
    conv2: Conv1d<B>,
}

impl<B: Backend> PosNetResBlock<B> {
    fn new(dim: usize, dropout: SeededDropout, init: &SeededInit<B>) -> Self {
        Self {
            norm1: group_norm(dim, init.device()),
            conv1: conv1d(dim, dim, 3, init),
            norm2: group_norm(dim, init.device()),
            dropout,
            conv2: conv1d(dim, dim, 3, init),
        }
    }

    fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let h = self.conv1.forward(silu(self.norm1.forward(x.clone())));
        let h = self.dropout.forward(silu(self.norm2.forward(h)));
        x + self.conv2.forward(h)
    }
}

/// Single-head self-attention over all frames (non-causal), 1×1 conv projections.
#[derive(Module, Debug)]
pub struct AttentionBlock<B: Backend> {
    norm: GroupNorm<B>,
    q: Conv1d<B>,
    k: Conv1d<B>,
    v: Conv1d<B>,
    proj_out: Conv1d<B>,
}

impl<B: Backend> AttentionBlock<B> {
    fn new(dim: usize, init: &SeededInit<B>) -> Self {
        Self {
            norm: group_norm(dim, init.device()),
            q: conv1d(dim, dim, 1, init),
            k: conv1d(dim, dim, 1, init),
            v: conv1d(dim, dim, 1, init),
            proj_out: conv1d(dim, dim, 1, init),
        }
    }

    fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let h = self.norm.forward(x.clone());
        let [_, channels, _] = h.dims();
        let q = self.q.forward(h.clone()).swap_dims(1, 2); // [B, T, C]
        let k = self.k.forward(h.clone()); // [B, C, T]
        let v = self.v.forward(h); // [B, C, T]
        let weights = softmax(q.matmul(k) * (channels as f64).powf(-0.5), 2); // [B, Tq, Tk]
        let attended = v.matmul(weights.swap_dims(1, 2)); // [B, C, Tq]
        x + self.proj_out.forward(attended)
    }
}

/// ConvNeXt block: depthwise conv k7 → LayerNorm → Linear → GELU → Linear → × γ, residual.
#[derive(Module, Debug)]
pub struct ConvNextBlock<B: Backend> {
    dwconv: Conv1d<B>,
    norm: LayerNorm<B>,
    pwconv1: Linear<B>,
    pwconv2: Linear<B>,
    /// Layer scale, initialised to `1 / layers`.
    gamma: Param<Tensor<B, 1>>,
}

impl<B: Backend> ConvNextBlock<B> {
    fn new(dim: usize, hidden: usize, layer_scale: f64, init: &SeededInit<B>) -> Self {
        Self {
            dwconv: init
                .conv1d(
                    &Conv1dConfig::new(dim, dim, 7)
                        .with_padding(PaddingConfig1d::Explicit(3, 3))
                        .with_groups(dim)
                        .with_initializer(TRUNC_NORMAL),
                )
                .zero_bias(),
            norm: LayerNormConfig::new(dim)
                .with_epsilon(EPS)
                .init(init.device()),
            pwconv1: linear(dim, hidden, init),
            pwconv2: linear(hidden, dim, init),
            gamma: Param::from_tensor(Tensor::full([dim], layer_scale, init.device())),
        }
    }

    fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let h = self.dwconv.forward(x.clone()).swap_dims(1, 2); // [B, T, C]
        let h = self
            .pwconv2
            .forward(exact_gelu(self.pwconv1.forward(self.norm.forward(h))));
        let h = h * self.gamma.val().unsqueeze::<3>();
        x + h.swap_dims(1, 2)
    }
}

fn linear<B: Backend>(din: usize, dout: usize, init: &SeededInit<B>) -> Linear<B> {
    let mut l = init.linear(&LinearConfig::new(din, dout).with_initializer(TRUNC_NORMAL));
    l.bias = l.bias.map(|b| Param::from_tensor(b.val().zeros_like()));
    l
}

/// Zeroes a conv's bias (Vocos' init).
trait ZeroBias {
    fn zero_bias(self) -> Self;
}

impl<B: Backend> ZeroBias for Conv1d<B> {
    fn zero_bias(mut self) -> Self {
        self.bias = self.bias.map(|b| Param::from_tensor(b.val().zeros_like()));
        self
    }
}

/// The backbone.
#[derive(Module, Debug)]
pub struct VocosBackbone<B: Backend> {
    embed: Conv1d<B>,
    /// Residual blocks 0, 1, 3, 4 of the reference's `pos_net`.
    pos_blocks: Vec<PosNetResBlock<B>>,
    /// Block 2 of `pos_net`.
    pos_attention: AttentionBlock<B>,
    /// Block 5 of `pos_net`.
    pos_norm: GroupNorm<B>,
    norm: LayerNorm<B>,
    convnext: Vec<ConvNextBlock<B>>,
    final_layer_norm: LayerNorm<B>,
    /// The generator of the `pos_net` dropout masks.
    #[module(skip)]
    dropout_rng: DropoutRng,
}

impl VocosConfig {
    /// Builds the backbone of `config`.
    pub fn init<B: Backend>(&self, init: &SeededInit<B>) -> VocosBackbone<B> {
        let config = self;
        let dim = config.dim;
        let layer_scale = 1.0 / config.layers as f64;
        let dropout_rng = DropoutRng::new(0);
        let dropout = SeededDropout::new(config.dropout, dropout_rng.clone());
        VocosBackbone {
            embed: init
                .conv1d(
                    &Conv1dConfig::new(config.input_channels, dim, 7)
                        .with_padding(PaddingConfig1d::Explicit(3, 3))
                        .with_initializer(TRUNC_NORMAL),
                )
                .zero_bias(),
            pos_blocks: (0..4)
                .map(|_| PosNetResBlock::new(dim, dropout.clone(), init))
                .collect(),
            pos_attention: AttentionBlock::new(dim, init),
            pos_norm: group_norm(dim, init.device()),
            norm: LayerNormConfig::new(dim)
                .with_epsilon(EPS)
                .init(init.device()),
            convnext: (0..config.layers)
                .map(|_| ConvNextBlock::new(dim, config.intermediate_dim, layer_scale, init))
                .collect(),
            final_layer_norm: LayerNormConfig::new(dim)
                .with_epsilon(EPS)
                .init(init.device()),
            dropout_rng,
        }
    }
}

impl<B: Backend> VocosBackbone<B> {
    /// Restarts the `pos_net` dropout masks from `seed`: the training loop calls it before
    /// every step with a seed of `(run seed, step)`, so a resumed run draws the same masks.
    pub fn reseed_dropout(&self, seed: u64) {
        self.dropout_rng.reseed(seed);
    }

    /// `[B, input_channels, T] → [B, T, dim]`.
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let mut h = self.embed.forward(x);
        h = self.pos_blocks[0].forward(h);
        h = self.pos_blocks[1].forward(h);
        h = self.pos_attention.forward(h);
        h = self.pos_blocks[2].forward(h);
        h = self.pos_blocks[3].forward(h);
        h = self.pos_norm.forward(h);
        let mut h = self.norm.forward(h.swap_dims(1, 2)).swap_dims(1, 2);
        for block in &self.convnext {
            h = block.forward(h);
        }
        self.final_layer_norm.forward(h.swap_dims(1, 2))
    }
}
