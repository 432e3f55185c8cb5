//! The causal SEANet encoder (EnCodec's, as the reference configures it): waveform
//! `[B, 1, T]` → latent `[B, 512, ceil(T / 320)]`.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Initializer, Lstm, LstmConfig};
use burn::tensor::activation::elu;
use burn::tensor::{backend::Backend, Tensor};

use crate::conv::WeightNormConv1d;
use simvq_quant::SeededInit;

/// Configuration of [`SeanetEncoder`]; defaults are the reference's.
#[derive(Config, Debug, PartialEq)]
pub struct SeanetConfig {
    /// Audio channels.
    #[config(default = 1)]
    pub channels: usize,
    /// Width of the first conv.
    #[config(default = 32)]
    pub filters: usize,
    /// Downsampling ratios, applied last to first (EnCodec's convention): strides 2, 4, 5, 8.
    #[config(default = "vec![8, 5, 4, 2]")]
    pub ratios: Vec<usize>,
    /// Output width (the code dimension).
    #[config(default = 512)]
    pub dimension: usize,
    /// LSTM layers at the bottleneck.
    #[config(default = 2)]
    pub lstm_layers: usize,
}

impl SeanetConfig {
    /// Samples per output frame (the product of the ratios: 320).
    pub fn hop_length(&self) -> usize {
        self.ratios.iter().product()
    }
}

/// `x + block(x)` with a 1×1 conv shortcut: `ELU → conv k3 (c → c/2) → ELU → conv k1 (c/2 → c)`.
#[derive(Module, Debug)]
pub struct SeanetResBlock<B: Backend> {
    /// The two convs of the block (EnCodec's `block.1`, `block.3`).
    pub block: Vec<WeightNormConv1d<B>>,
    /// The 1×1 shortcut conv.
    pub shortcut: WeightNormConv1d<B>,
}

impl<B: Backend> SeanetResBlock<B> {
    fn new(channels: usize, init: &SeededInit<B>) -> Self {
        let hidden = channels / 2;
        Self {
            block: vec![
                WeightNormConv1d::new(channels, hidden, 3, 1, 1, init),
                WeightNormConv1d::new(hidden, channels, 1, 1, 1, init),
            ],
            shortcut: WeightNormConv1d::new(channels, channels, 1, 1, 1, init),
        }
    }

    fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let mut h = x.clone();
        for conv in &self.block {
            h = conv.forward(elu(h, 1.0));
        }
        self.shortcut.forward(x) + h
    }
}

/// One downsampling stage: residual block, ELU, strided conv doubling the width.
#[derive(Module, Debug)]
pub struct SeanetStage<B: Backend> {
    /// Residual block.
    pub residual: SeanetResBlock<B>,
    /// Strided conv (kernel 2·ratio, stride ratio).
    pub downsample: WeightNormConv1d<B>,
}

/// The encoder. Every conv is weight-normalised and causal (reflect padding on the left).
#[derive(Module, Debug)]
pub struct SeanetEncoder<B: Backend> {
    /// First conv (kernel 7).
    pub conv_in: WeightNormConv1d<B>,
    /// Downsampling stages, strides 2, 4, 5, 8.
    pub stages: Vec<SeanetStage<B>>,
    /// Stacked LSTM layers, batch-first, with a skip connection around the stack.
    pub lstm: Vec<Lstm<B>>,
    /// Last conv (kernel 7) to the code dimension.
    pub conv_out: WeightNormConv1d<B>,
}

impl SeanetConfig {
    /// Builds the encoder of `config`.
    pub fn init<B: Backend>(&self, init: &SeededInit<B>) -> SeanetEncoder<B> {
        let config = self;
        let mut width = config.filters;
        let conv_in = WeightNormConv1d::new(config.channels, width, 7, 1, 1, init);
        let stages = config
            .ratios
            .iter()
            .rev()
            .map(|&ratio| {
                let stage = SeanetStage {
                    residual: SeanetResBlock::new(width, init),
                    downsample: WeightNormConv1d::new(width, 2 * width, 2 * ratio, ratio, 1, init),
                };
                width *= 2;
                stage
            })
            .collect();
        // PyTorch's LSTM init: U(±1/√hidden) for every weight and bias.
        let bound = 1.0 / (width as f64).sqrt();
        let lstm = (0..config.lstm_layers)
            .map(|_| {
                init.lstm(&LstmConfig::new(width, width, true).with_initializer(
                    Initializer::Uniform {
                        min: -bound,
                        max: bound,
                    },
                ))
            })
            .collect();
        SeanetEncoder {
            conv_in,
            stages,
            lstm,
            conv_out: WeightNormConv1d::new(width, config.dimension, 7, 1, 1, init),
        }
    }
}

impl<B: Backend> SeanetEncoder<B> {
    /// `[B, 1, T] → [B, dimension, ceil(T / hop)]`.
    pub fn forward(&self, wave: Tensor<B, 3>) -> Tensor<B, 3> {
        let mut h = self.conv_in.forward(wave);
        for stage in &self.stages {
            h = stage.residual.forward(h);
            h = stage.downsample.forward(elu(h, 1.0));
        }
        self.conv_out.forward(elu(self.bottleneck(h), 1.0))
    }

    /// The LSTM stack with its skip connection, `[B, C, T] → [B, C, T]` (identity without
    /// LSTM layers).
    pub(crate) fn bottleneck(&self, h: Tensor<B, 3>) -> Tensor<B, 3> {
        if self.lstm.is_empty() {
            return h;
        }
        let x = h.swap_dims(1, 2); // [B, T, C]
        let mut y = x.clone();
        for layer in &self.lstm {
            y = layer.forward(y, None).0;
        }
        (y + x).swap_dims(1, 2)
    }
}
