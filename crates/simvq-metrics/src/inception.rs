//! pytorch-fid's InceptionV3 (the TensorFlow FID network ported to PyTorch), up to its 2048-d
//! final average pool: the feature extractor of rFID.
//!
//! It is torchvision's Inception v3 with pytorch-fid's patches: average pools inside the
//! A/C/E blocks do not count the zero padding (`count_include_pad=False`, as TensorFlow), and
//! the last E block pools with a max instead of an average. Inputs in `[0, 1]` are resized
//! bilinearly to 299×299 (`align_corners=False`) and scaled to `[-1, 1]` inside the network,
//! as `InceptionV3(resize_input=True, normalize_input=True)`.

use std::path::Path;

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2dConfig, MaxPool2dConfig};
use burn::nn::Initializer;
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{backend::Backend, Tensor};

use crate::error::MetricsError;
use crate::weights::load_weights;

/// Dimension of the pool features FID compares.
pub const INCEPTION_FEATURES: usize = 2048;
/// Side the network resizes its inputs to.
const INPUT_SIDE: usize = 299;
/// BatchNorm epsilon of every `BasicConv2d` (TensorFlow's).
const BN_EPS: f64 = 1e-3;

/// Where the weights come from, for error messages and docs.
pub const INCEPTION_WEIGHTS_HELP: &str = "rFID needs pytorch-fid's FID Inception weights \
    pt_inception-2015-12-05-6726825d.pth (https://github.com/mseitzer/pytorch-fid/releases/\
    download/fid_weights/pt_inception-2015-12-05-6726825d.pth, 91 MB; a `.safetensors` copy with \
    the same key names also loads)";

/// Conv (no bias) → BatchNorm (eps 1e-3) → ReLU: torchvision's `BasicConv2d`.
#[derive(Module, Debug)]
struct BasicConv<B: Backend> {
    conv: Conv2d<B>,
    bn: BatchNorm<B>,
}

impl<B: Backend> BasicConv<B> {
    /// `kernel`, `stride` and `padding` as (height, width).
    fn new(
        cin: usize,
        cout: usize,
        kernel: [usize; 2],
        stride: usize,
        padding: [usize; 2],
        device: &B::Device,
    ) -> Self {
        Self {
            conv: Conv2dConfig::new([cin, cout], kernel)
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(
                    padding[0], padding[1], padding[0], padding[1],
                ))
                .with_bias(false)
                // He initialisation keeps a random network's activations near unit scale;
                // burn's default shrinks them layer by layer into subnormal floats, which are
                // two orders of magnitude slower on x86 CPUs.
                .with_initializer(Initializer::KaimingNormal {
                    gain: std::f64::consts::SQRT_2,
                    fan_out_only: false,
                })
                .init(device),
            bn: BatchNormConfig::new(cout).with_epsilon(BN_EPS).init(device),
        }
    }

    /// A square `k×k` conv with stride 1 and "same" padding.
    fn square(cin: usize, cout: usize, k: usize, device: &B::Device) -> Self {
        Self::new(cin, cout, [k, k], 1, [k / 2, k / 2], device)
    }

    /// A `1×n` conv (padding `n/2` on the width).
    fn row(cin: usize, cout: usize, n: usize, device: &B::Device) -> Self {
        Self::new(cin, cout, [1, n], 1, [0, n / 2], device)
    }

    /// An `n×1` conv (padding `n/2` on the height).
    fn column(cin: usize, cout: usize, n: usize, device: &B::Device) -> Self {
        Self::new(cin, cout, [n, 1], 1, [n / 2, 0], device)
    }

    /// A `3×3` conv with stride 2 and no padding (the reductions).
    fn reduce(cin: usize, cout: usize, device: &B::Device) -> Self {
        Self::new(cin, cout, [3, 3], 2, [0, 0], device)
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        relu(self.bn.forward(self.conv.forward(x)))
    }
}

/// 3×3, stride 1, padding 1 average pool that ignores the padding (TensorFlow's).
fn average_pool_3x3<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    AvgPool2dConfig::new([3, 3])
        .with_strides([1, 1])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_count_include_pad(false)
        .init()
        .forward(x)
}

/// 3×3 max pool with `stride` and `padding`.
fn max_pool_3x3<B: Backend>(x: Tensor<B, 4>, stride: usize, padding: usize) -> Tensor<B, 4> {
    MaxPool2dConfig::new([3, 3])
        .with_strides([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(
            padding, padding, padding, padding,
        ))
        .init()
        .forward(x)
}

/// `FIDInceptionA` (Mixed_5b/c/d).
#[derive(Module, Debug)]
struct InceptionA<B: Backend> {
    branch1x1: BasicConv<B>,
    branch5x5_1: BasicConv<B>,
    branch5x5_2: BasicConv<B>,
    branch3x3dbl_1: BasicConv<B>,
    branch3x3dbl_2: BasicConv<B>,
    branch3x3dbl_3: BasicConv<B>,
    branch_pool: BasicConv<B>,
}

impl<B: Backend> InceptionA<B> {
    fn new(cin: usize, pool_features: usize, device: &B::Device) -> Self {
        Self {
            branch1x1: BasicConv::square(cin, 64, 1, device),
            branch5x5_1: BasicConv::square(cin, 48, 1, device),
            branch5x5_2: BasicConv::square(48, 64, 5, device),
            branch3x3dbl_1: BasicConv::square(cin, 64, 1, device),
            branch3x3dbl_2: BasicConv::square(64, 96, 3, device),
            branch3x3dbl_3: BasicConv::square(96, 96, 3, device),
            branch_pool: BasicConv::square(cin, pool_features, 1, device),
        }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let b1 = self.branch1x1.forward(x.clone());
        let b5 = self
            .branch5x5_2
            .forward(self.branch5x5_1.forward(x.clone()));
        let b3 = self.branch3x3dbl_3.forward(
            self.branch3x3dbl_2
                .forward(self.branch3x3dbl_1.forward(x.clone())),
        );
        let pool = self.branch_pool.forward(average_pool_3x3(x));
        Tensor::cat(vec![b1, b5, b3, pool], 1)
    }
}

/// torchvision's `InceptionB` (Mixed_6a, a grid reduction).
#[derive(Module, Debug)]
struct InceptionB<B: Backend> {
    branch3x3: BasicConv<B>,
    branch3x3dbl_1: BasicConv<B>,
    branch3x3dbl_2: BasicConv<B>,
    branch3x3dbl_3: BasicConv<B>,
}

impl<B: Backend> InceptionB<B> {
    fn new(cin: usize, device: &B::Device) -> Self {
        Self {
            branch3x3: BasicConv::reduce(cin, 384, device),
            branch3x3dbl_1: BasicConv::square(cin, 64, 1, device),
            branch3x3dbl_2: BasicConv::square(64, 96, 3, device),
            branch3x3dbl_3: BasicConv::reduce(96, 96, device),
        }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let b3 = self.branch3x3.forward(x.clone());
        let dbl = self.branch3x3dbl_3.forward(
            self.branch3x3dbl_2
                .forward(self.branch3x3dbl_1.forward(x.clone())),
        );
        Tensor::cat(vec![b3, dbl, max_pool_3x3(x, 2, 0)], 1)
    }
}

/// `FIDInceptionC` (Mixed_6b…e): factorised 7×7 convs.
#[derive(Module, Debug)]
struct InceptionC<B: Backend> {
    branch1x1: BasicConv<B>,
    branch7x7_1: BasicConv<B>,
    branch7x7_2: BasicConv<B>,
    branch7x7_3: BasicConv<B>,
    branch7x7dbl_1: BasicConv<B>,
    branch7x7dbl_2: BasicConv<B>,
    branch7x7dbl_3: BasicConv<B>,
    branch7x7dbl_4: BasicConv<B>,
    branch7x7dbl_5: BasicConv<B>,
    branch_pool: BasicConv<B>,
}

impl<B: Backend> InceptionC<B> {
    fn new(cin: usize, c7: usize, device: &B::Device) -> Self {
        Self {
            branch1x1: BasicConv::square(cin, 192, 1, device),
            branch7x7_1: BasicConv::square(cin, c7, 1, device),
            branch7x7_2: BasicConv::row(c7, c7, 7, device),
            branch7x7_3: BasicConv::column(c7, 192, 7, device),
            branch7x7dbl_1: BasicConv::square(cin, c7, 1, device),
            branch7x7dbl_2: BasicConv::column(c7, c7, 7, device),
            branch7x7dbl_3: BasicConv::row(c7, c7, 7, device),
            branch7x7dbl_4: BasicConv::column(c7, c7, 7, device),
            branch7x7dbl_5: BasicConv::row(c7, 192, 7, device),
            branch_pool: BasicConv::square(cin, 192, 1, device),
        }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let b1 = self.branch1x1.forward(x.clone());
        let b7 = [&self.branch7x7_1, &self.branch7x7_2, &self.branch7x7_3]
            .iter()
            .fold(x.clone(), |h, c| c.forward(h));
        let dbl = [
            &self.branch7x7dbl_1,
            &self.branch7x7dbl_2,
            &self.branch7x7dbl_3,
            &self.branch7x7dbl_4,
            &self.branch7x7dbl_5,
        ]
        .iter()
        .fold(x.clone(), |h, c| c.forward(h));
        let pool = self.branch_pool.forward(average_pool_3x3(x));
        Tensor::cat(vec![b1, b7, dbl, pool], 1)
    }
}

/// torchvision's `InceptionD` (Mixed_7a, a grid reduction).
#[derive(Module, Debug)]
struct InceptionD<B: Backend> {
    branch3x3_1: BasicConv<B>,
    branch3x3_2: BasicConv<B>,
    branch7x7x3_1: BasicConv<B>,
    branch7x7x3_2: BasicConv<B>,
    branch7x7x3_3: BasicConv<B>,
    branch7x7x3_4: BasicConv<B>,
}

impl<B: Backend> InceptionD<B> {
    fn new(cin: usize, device: &B::Device) -> Self {
        Self {
            branch3x3_1: BasicConv::square(cin, 192, 1, device),
            branch3x3_2: BasicConv::reduce(192, 320, device),
            branch7x7x3_1: BasicConv::square(cin, 192, 1, device),
            branch7x7x3_2: BasicConv::row(192, 192, 7, device),
            branch7x7x3_3: BasicConv::column(192, 192, 7, device),
            branch7x7x3_4: BasicConv::reduce(192, 192, device),
        }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let b3 = self
            .branch3x3_2
            .forward(self.branch3x3_1.forward(x.clone()));
        let b7 = [
            &self.branch7x7x3_1,
            &self.branch7x7x3_2,
            &self.branch7x7x3_3,
            &self.branch7x7x3_4,
        ]
        .iter()
        .fold(x.clone(), |h, c| c.forward(h));
        Tensor::cat(vec![b3, b7, max_pool_3x3(x, 2, 0)], 1)
    }
}

/// `FIDInceptionE_1` (Mixed_7b, average pool) and `FIDInceptionE_2` (Mixed_7c, max pool).
#[derive(Module, Debug)]
struct InceptionE<B: Backend> {
    branch1x1: BasicConv<B>,
    branch3x3_1: BasicConv<B>,
    branch3x3_2a: BasicConv<B>,
    branch3x3_2b: BasicConv<B>,
    branch3x3dbl_1: BasicConv<B>,
    branch3x3dbl_2: BasicConv<B>,
    branch3x3dbl_3a: BasicConv<B>,
    branch3x3dbl_3b: BasicConv<B>,
    branch_pool: BasicConv<B>,
    /// pytorch-fid's Mixed_7c pools with a max (a quirk of the TensorFlow graph).
    max_pool: bool,
}

impl<B: Backend> InceptionE<B> {
    fn new(cin: usize, max_pool: bool, device: &B::Device) -> Self {
        Self {
            branch1x1: BasicConv::square(cin, 320, 1, device),
            branch3x3_1: BasicConv::square(cin, 384, 1, device),
            branch3x3_2a: BasicConv::row(384, 384, 3, device),
            branch3x3_2b: BasicConv::column(384, 384, 3, device),
            branch3x3dbl_1: BasicConv::square(cin, 448, 1, device),
            branch3x3dbl_2: BasicConv::square(448, 384, 3, device),
            branch3x3dbl_3a: BasicConv::row(384, 384, 3, device),
            branch3x3dbl_3b: BasicConv::column(384, 384, 3, device),
            branch_pool: BasicConv::square(cin, 192, 1, device),
            max_pool,
        }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let b1 = self.branch1x1.forward(x.clone());
        let b3 = self.branch3x3_1.forward(x.clone());
        let b3 = Tensor::cat(
            vec![
                self.branch3x3_2a.forward(b3.clone()),
                self.branch3x3_2b.forward(b3),
            ],
            1,
        );
        let dbl = self
            .branch3x3dbl_2
            .forward(self.branch3x3dbl_1.forward(x.clone()));
        let dbl = Tensor::cat(
            vec![
                self.branch3x3dbl_3a.forward(dbl.clone()),
                self.branch3x3dbl_3b.forward(dbl),
            ],
            1,
        );
        let pooled = if self.max_pool {
            max_pool_3x3(x, 1, 1)
        } else {
            average_pool_3x3(x)
        };
        let pool = self.branch_pool.forward(pooled);
        Tensor::cat(vec![b1, b3, dbl, pool], 1)
    }
}

/// The FID InceptionV3 up to the 2048-d average pool. Field names are pytorch-fid's, lower-cased
/// (`Conv2d_1a_3x3` → `conv2d_1a_3x3`), so its weight file loads by name.
#[derive(Module, Debug)]
pub struct FidInception<B: Backend> {
    conv2d_1a_3x3: BasicConv<B>,
    conv2d_2a_3x3: BasicConv<B>,
    conv2d_2b_3x3: BasicConv<B>,
    conv2d_3b_1x1: BasicConv<B>,
    conv2d_4a_3x3: BasicConv<B>,
    mixed_5b: InceptionA<B>,
    mixed_5c: InceptionA<B>,
    mixed_5d: InceptionA<B>,
    mixed_6a: InceptionB<B>,
    mixed_6b: InceptionC<B>,
    mixed_6c: InceptionC<B>,
    mixed_6d: InceptionC<B>,
    mixed_6e: InceptionC<B>,
    mixed_7a: InceptionD<B>,
    mixed_7b: InceptionE<B>,
    mixed_7c: InceptionE<B>,
}

impl<B: Backend> FidInception<B> {
    /// The network with random weights: only for tests that load their own.
    pub fn random(device: &B::Device) -> Self {
        Self {
            conv2d_1a_3x3: BasicConv::reduce(3, 32, device),
            conv2d_2a_3x3: BasicConv::new(32, 32, [3, 3], 1, [0, 0], device),
            conv2d_2b_3x3: BasicConv::square(32, 64, 3, device),
            conv2d_3b_1x1: BasicConv::square(64, 80, 1, device),
            conv2d_4a_3x3: BasicConv::new(80, 192, [3, 3], 1, [0, 0], device),
            mixed_5b: InceptionA::new(192, 32, device),
            mixed_5c: InceptionA::new(256, 64, device),
            mixed_5d: InceptionA::new(288, 64, device),
            mixed_6a: InceptionB::new(288, device),
            mixed_6b: InceptionC::new(768, 128, device),
            mixed_6c: InceptionC::new(768, 160, device),
            mixed_6d: InceptionC::new(768, 160, device),
            mixed_6e: InceptionC::new(768, 192, device),
            mixed_7a: InceptionD::new(768, device),
            mixed_7b: InceptionE::new(1280, false, device),
            mixed_7c: InceptionE::new(2048, true, device),
        }
    }

    /// Loads pytorch-fid's `pt_inception-2015-12-05-6726825d.pth` (or a `.safetensors` file
    /// with its key names). The classifier (`fc.*`) is not needed and ignored; every other
    /// tensor must be found with its shape.
    pub fn load(path: &Path, device: &B::Device) -> Result<Self, MetricsError> {
        let mut net = Self::random(device);
        let remaps = [
            (r"^Conv2d_".to_string(), "conv2d_".to_string()),
            (r"^Mixed_".to_string(), "mixed_".to_string()),
        ];
        load_weights(&mut net, path, &remaps, INCEPTION_WEIGHTS_HELP)?;
        Ok(net.no_grad())
    }

    /// The `[B, 2048]` pool features of images `[B, 3, H, W]` in `[0, 1]` (not quantised: the
    /// reference feeds the float reconstructions).
    pub fn features(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let batch = images.dims()[0];
        let x = interpolate(
            images,
            [INPUT_SIDE, INPUT_SIDE],
            InterpolateOptions::new(InterpolateMode::Bilinear).with_align_corners(false),
        );
        let x = x.mul_scalar(2.0).sub_scalar(1.0);
        let x = self.conv2d_1a_3x3.forward(x);
        let x = self.conv2d_2a_3x3.forward(x);
        let x = self.conv2d_2b_3x3.forward(x);
        let x = max_pool_3x3(x, 2, 0);
        let x = self.conv2d_3b_1x1.forward(x);
        let x = self.conv2d_4a_3x3.forward(x);
        let x = max_pool_3x3(x, 2, 0);
        let x = self.mixed_5b.forward(x);
        let x = self.mixed_5c.forward(x);
        let x = self.mixed_5d.forward(x);
        let x = self.mixed_6a.forward(x);
        let x = self.mixed_6b.forward(x);
        let x = self.mixed_6c.forward(x);
        let x = self.mixed_6d.forward(x);
        let x = self.mixed_6e.forward(x);
        let x = self.mixed_7a.forward(x);
        let x = self.mixed_7b.forward(x);
        let x = self.mixed_7c.forward(x);
        x.mean_dim(3)
            .mean_dim(2)
            .reshape([batch, INCEPTION_FEATURES])
    }
}
