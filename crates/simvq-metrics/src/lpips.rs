//! LPIPS v0.1 (the `lpips` package) with the AlexNet or the VGG16 backbone: the reference's
//! evaluation prints both, and its perceptual training loss is the VGG one (taming's `LPIPS`).
//!
//! burn-train 0.21 has an LPIPS metric, but it is not reused here: it sits behind burn-train's
//! `vision` feature, which pulls a network downloader, and its constructor downloads weights
//! (our training and GPU machines have no internet). This module loads the same two files from
//! paths the user gives and reports what is wrong with them.

use std::path::Path;

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::PaddingConfig2d;
use burn::tensor::activation::relu;
use burn::tensor::{backend::Backend, Tensor};

use crate::error::MetricsError;
use crate::weights::load_weights;

/// The backbone an LPIPS network compares features of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LpipsNet {
    /// torchvision's AlexNet (`net='alex'`, LPIPS' default for evaluation).
    Alex,
    /// torchvision's VGG16 (`net='vgg'`, the perceptual training loss).
    Vgg,
}

/// One conv of a backbone, followed by a ReLU.
struct ConvLayer {
    channels: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    /// A max-pool runs before this conv.
    pool_before: bool,
    /// Its ReLU output is one of the five compared feature maps.
    stage_end: bool,
}

const fn layer(channels: usize, kernel: usize, stride: usize, padding: usize) -> ConvLayer {
    ConvLayer {
        channels,
        kernel,
        stride,
        padding,
        pool_before: false,
        stage_end: false,
    }
}

const fn pooled(l: ConvLayer) -> ConvLayer {
    ConvLayer {
        pool_before: true,
        ..l
    }
}

const fn stage(l: ConvLayer) -> ConvLayer {
    ConvLayer {
        stage_end: true,
        ..l
    }
}

/// AlexNet's `features` convs (relu1 … relu5 are all compared).
const ALEX: [ConvLayer; 5] = [
    stage(layer(64, 11, 4, 2)),
    stage(pooled(layer(192, 5, 1, 2))),
    stage(pooled(layer(384, 3, 1, 1))),
    stage(layer(256, 3, 1, 1)),
    stage(layer(256, 3, 1, 1)),
];
/// VGG16's `features` convs up to relu5_3 (relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 compared).
const VGG: [ConvLayer; 13] = [
    layer(64, 3, 1, 1),
    stage(layer(64, 3, 1, 1)),
    pooled(layer(128, 3, 1, 1)),
    stage(layer(128, 3, 1, 1)),
    pooled(layer(256, 3, 1, 1)),
    layer(256, 3, 1, 1),
    stage(layer(256, 3, 1, 1)),
    pooled(layer(512, 3, 1, 1)),
    layer(512, 3, 1, 1),
    stage(layer(512, 3, 1, 1)),
    pooled(layer(512, 3, 1, 1)),
    layer(512, 3, 1, 1),
    stage(layer(512, 3, 1, 1)),
];

/// LPIPS' input scaling for `[-1, 1]` images.
const SHIFT: [f32; 3] = [-0.030, -0.088, -0.188];
const SCALE: [f32; 3] = [0.458, 0.448, 0.450];
/// Added to the channel norm before dividing, as LPIPS' `normalize_tensor`.
const NORM_EPS: f64 = 1e-10;

impl LpipsNet {
    fn layers(self) -> &'static [ConvLayer] {
        match self {
            Self::Alex => &ALEX,
            Self::Vgg => &VGG,
        }
    }

    /// Positions of the convs in torchvision's `features` (ReLUs and pools between).
    fn torchvision_indices(self) -> &'static [usize] {
        match self {
            Self::Alex => &[0, 3, 6, 8, 10],
            Self::Vgg => &[0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28],
        }
    }

    fn pool(self) -> MaxPool2d {
        let size = match self {
            Self::Alex => 3,
            Self::Vgg => 2,
        };
        MaxPool2dConfig::new([size, size])
            .with_strides([2, 2])
            .init()
    }

    /// The smallest image side the backbone's strides and pools accept.
    pub fn min_side(self) -> usize {
        match self {
            Self::Alex => 31,
            Self::Vgg => 16,
        }
    }

    /// The name `lpips` gives the backbone (`net=…`) and its heads file.
    pub fn name(self) -> &'static str {
        match self {
            Self::Alex => "alex",
            Self::Vgg => "vgg",
        }
    }

    /// Which two files this variant needs and where to get them.
    pub fn weights_help(self) -> String {
        let (title, backbone) = match self {
            Self::Alex => (
                "LPIPS-Alex",
                "the torchvision AlexNet backbone (https://download.pytorch.org/models/alexnet-owt-7be5be79.pth)",
            ),
            Self::Vgg => (
                "LPIPS-VGG",
                "the torchvision VGG16 backbone (https://download.pytorch.org/models/vgg16-397923af.pth)",
            ),
        };
        let name = self.name();
        format!(
            "{title} needs two files: {backbone} and the LPIPS v0.1 linear heads ({name}.pth, \
             shipped in the `lpips` Python package under lpips/weights/v0.1/, or \
             https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/{name}.pth)"
        )
    }
}

/// The convolutional trunk of AlexNet or VGG16 up to its fifth compared ReLU.
#[derive(Module, Debug)]
struct Backbone<B: Backend> {
    features: Vec<Conv2d<B>>,
    pool: MaxPool2d,
    #[module(skip)]
    net: LpipsNet,
}

impl<B: Backend> Backbone<B> {
    fn new(net: LpipsNet, device: &B::Device) -> Self {
        let mut cin = 3;
        let features = net
            .layers()
            .iter()
            .map(|l| {
                let c = Conv2dConfig::new([cin, l.channels], [l.kernel, l.kernel])
                    .with_stride([l.stride, l.stride])
                    .with_padding(PaddingConfig2d::Explicit(
                        l.padding, l.padding, l.padding, l.padding,
                    ))
                    .init(device);
                cin = l.channels;
                c
            })
            .collect();
        Self {
            features,
            pool: net.pool(),
            net,
        }
    }

    /// The five compared feature maps of `x`.
    fn forward(&self, x: Tensor<B, 4>) -> Vec<Tensor<B, 4>> {
        let mut outputs = Vec::with_capacity(5);
        let mut h = x;
        for (conv, l) in self.features.iter().zip(self.net.layers()) {
            if l.pool_before {
                h = self.pool.forward(h);
            }
            h = relu(conv.forward(h));
            if l.stage_end {
                outputs.push(h.clone());
            }
        }
        outputs
    }
}

/// An LPIPS distance. Frozen: build it with [`Lpips::load`], which also turns gradients off
/// for its parameters (gradients still flow to the images).
#[derive(Module, Debug)]
pub struct Lpips<B: Backend> {
    backbone: Backbone<B>,
    /// One bias-free 1×1 conv `C → 1` per compared map. (LPIPS puts dropout before them; the
    /// reference keeps the module in eval mode, so there is none here.)
    lin: Vec<Conv2d<B>>,
}

impl<B: Backend> Lpips<B> {
    /// An LPIPS network with random weights: only for tests that load their own weights.
    pub fn random(net: LpipsNet, device: &B::Device) -> Self {
        let lin = net
            .layers()
            .iter()
            .filter(|l| l.stage_end)
            .map(|l| {
                Conv2dConfig::new([l.channels, 1], [1, 1])
                    .with_bias(false)
                    .init(device)
            })
            .collect();
        Self {
            backbone: Backbone::new(net, device),
            lin,
        }
    }

    /// Which backbone this is.
    pub fn net(&self) -> LpipsNet {
        self.backbone.net
    }

    /// Loads the torchvision backbone (`features.*` of `alexnet-owt-7be5be79.pth` or
    /// `vgg16-397923af.pth`, or the same names in a `.safetensors` file) and the LPIPS v0.1
    /// heads (`lin{0..4}.model.1.weight` of `alex.pth`/`vgg.pth`, or `.safetensors`). Every
    /// tensor must be found with the right shape.
    pub fn load(
        net: LpipsNet,
        backbone: &Path,
        heads: &Path,
        device: &B::Device,
    ) -> Result<Self, MetricsError> {
        let mut lpips = Self::random(net, device);
        let help = net.weights_help();
        // torchvision numbers the convs by their position among conv/ReLU/pool layers.
        let backbone_keys = net
            .torchvision_indices()
            .iter()
            .enumerate()
            .map(|(k, i)| (format!(r"^features\.{i}\."), format!("features.{k}.")))
            .collect::<Vec<_>>();
        load_weights(&mut lpips.backbone, backbone, &backbone_keys, &help)?;
        let head_keys = [(r"^lin(\d)\.model\.1\.weight$".into(), "$1.weight".into())];
        load_weights(&mut lpips.lin, heads, &head_keys, &help)?;
        Ok(lpips.no_grad())
    }

    /// An error when `[B, C, H, W]` images are too small for the backbone (`forward` would
    /// panic inside a pool).
    pub fn check_size(&self, dims: [usize; 4]) -> Result<(), MetricsError> {
        let [_, _, height, width] = dims;
        let min = self.net().min_side();
        if height < min || width < min {
            return Err(MetricsError::ImageTooSmall {
                metric: match self.net() {
                    LpipsNet::Alex => "LPIPS-Alex",
                    LpipsNet::Vgg => "LPIPS-VGG",
                },
                window: min,
                height,
                width,
            });
        }
        Ok(())
    }

    /// Per-image distance `[B]` between two batches `[B, 3, H, W]` in `[-1, 1]`.
    pub fn forward(&self, x: Tensor<B, 4>, y: Tensor<B, 4>) -> Tensor<B, 1> {
        let batch = x.dims()[0];
        // One pass over both batches.
        let features = self
            .backbone
            .forward(scale_input(Tensor::cat(vec![x, y], 0)));
        let mut total: Option<Tensor<B, 1>> = None;
        for (feature, lin) in features.into_iter().zip(&self.lin) {
            let normalised = unit_normalise(feature);
            let a = normalised.clone().narrow(0, 0, batch);
            let b = normalised.narrow(0, batch, batch);
            let diff = (a - b).powf_scalar(2.0);
            let per_image = lin.forward(diff).mean_dim(3).mean_dim(2).reshape([batch]);
            total = Some(match total {
                Some(t) => t + per_image,
                None => per_image,
            });
        }
        total.expect("five compared feature maps")
    }
}

/// `(x − shift) / scale` per channel.
fn scale_input<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let device = x.device();
    let shift = Tensor::<B, 1>::from_floats(SHIFT, &device).reshape([1, 3, 1, 1]);
    let scale = Tensor::<B, 1>::from_floats(SCALE, &device).reshape([1, 3, 1, 1]);
    (x - shift) / scale
}

/// Divides every feature vector by its channel L2 norm (plus `1e-10`).
fn unit_normalise<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let norm = x
        .clone()
        .powf_scalar(2.0)
        .sum_dim(1)
        .sqrt()
        .add_scalar(NORM_EPS);
    x / norm
}
