//! LPIPS with the VGG16 backbone: the perceptual loss of the reference (taming's `LPIPS`,
//! which is LPIPS v0.1 with the `vgg` linear heads).
//!
//! burn-train 0.21 has an LPIPS metric, but it is not reused here: it sits behind burn-train's
//! `vision` feature, which pulls a network downloader, and its constructor downloads weights
//! (our training and GPU machines have no internet). This module loads the same two files from
//! paths the user gives and reports what is wrong with them.

use std::path::Path;

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::tensor::activation::relu;
use burn::tensor::{backend::Backend, Tensor};
use burn_store::{ModuleSnapshot, PytorchStore, SafetensorsStore};

use crate::blocks::conv;
use crate::error::{ImageError, Result};

/// Where the two weight files come from, for error messages and docs.
pub const LPIPS_WEIGHTS_HELP: &str = "LPIPS-VGG needs two files: the torchvision VGG16 backbone \
    (https://download.pytorch.org/models/vgg16-397923af.pth) and the LPIPS v0.1 linear heads \
    (vgg.pth, shipped in the `lpips` Python package under lpips/weights/v0.1/, or \
    https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/vgg.pth). \
    Give their paths in the config's [loss] section, or set perceptual_weight = 0 to train \
    without LPIPS";

/// VGG16 conv widths in order; a max-pool precedes the first conv of each stage after the first.
const VGG16_CONVS: [usize; 13] = [
    64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512,
];
/// Positions of the 13 convs in torchvision's `vgg16().features` (ReLUs and pools between).
const TORCHVISION_CONV_INDICES: [usize; 13] = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28];
/// Index of the last conv of each of the five stages (relu1_2, relu2_2, relu3_3, relu4_3, relu5_3).
const STAGE_ENDS: [usize; 5] = [1, 3, 6, 9, 12];
/// LPIPS' input scaling for `[-1, 1]` images.
const SHIFT: [f32; 3] = [-0.030, -0.088, -0.188];
const SCALE: [f32; 3] = [0.458, 0.448, 0.450];
/// Added to the channel norm before dividing, as LPIPS' `normalize_tensor`.
const NORM_EPS: f64 = 1e-10;

/// The VGG16 convolutional trunk up to `relu5_3` (torchvision's `features[0..30]`).
#[derive(Module, Debug)]
pub struct Vgg16Features<B: Backend> {
    features: Vec<Conv2d<B>>,
    pool: MaxPool2d,
}

impl<B: Backend> Vgg16Features<B> {
    fn new(device: &B::Device) -> Self {
        let mut cin = 3;
        let features = VGG16_CONVS
            .iter()
            .map(|&cout| {
                let c = conv(cin, cout, 3, true, device);
                cin = cout;
                c
            })
            .collect();
        Self {
            features,
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
        }
    }

    /// The five stage outputs of `x`.
    fn forward(&self, x: Tensor<B, 4>) -> Vec<Tensor<B, 4>> {
        let mut outputs = Vec::with_capacity(STAGE_ENDS.len());
        let mut h = x;
        for (i, conv) in self.features.iter().enumerate() {
            if i > 0 && STAGE_ENDS.contains(&(i - 1)) {
                h = self.pool.forward(h);
            }
            h = relu(conv.forward(h));
            if STAGE_ENDS.contains(&i) {
                outputs.push(h.clone());
            }
        }
        outputs
    }
}

/// LPIPS-VGG distance. Frozen: build it with [`Lpips::load`], which also turns gradients off
/// for its parameters (gradients still flow to the images).
#[derive(Module, Debug)]
pub struct Lpips<B: Backend> {
    backbone: Vgg16Features<B>,
    /// One bias-free 1×1 conv `C → 1` per stage. (LPIPS puts dropout before them; the
    /// reference keeps the module in eval mode, so there is none here.)
    lin: Vec<Conv2d<B>>,
}

impl<B: Backend> Lpips<B> {
    /// An LPIPS network with random weights: only for tests that load their own weights.
    pub fn random(device: &B::Device) -> Self {
        let lin = STAGE_ENDS
            .iter()
            .map(|&i| conv(VGG16_CONVS[i], 1, 1, false, device))
            .collect();
        Self {
            backbone: Vgg16Features::new(device),
            lin,
        }
    }

    /// Loads the torchvision VGG16 backbone (`features.*` of `vgg16-397923af.pth`, or the same
    /// names in a `.safetensors` file) and the LPIPS v0.1 heads (`lin{0..4}.model.1.weight`
    /// of `vgg.pth`, or `.safetensors`). Every tensor must be found with the right shape.
    pub fn load(backbone: &Path, heads: &Path, device: &B::Device) -> Result<Self> {
        let mut lpips = Self::random(device);
        // torchvision numbers the convs by their position among conv/ReLU/pool layers.
        let backbone_keys = TORCHVISION_CONV_INDICES
            .iter()
            .enumerate()
            .map(|(k, i)| (format!(r"^features\.{i}\."), format!("features.{k}.")))
            .collect::<Vec<_>>();
        load_file(&mut lpips.backbone, backbone, 26, &backbone_keys)?;
        let head_keys = [(r"^lin(\d)\.model\.1\.weight$".into(), "$1.weight".into())];
        load_file(&mut lpips.lin, heads, 5, &head_keys)?;
        Ok(lpips.no_grad())
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
        total.expect("VGG16 has five stages")
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

/// Loads `path` (PyTorch `.pth`/`.pt` or `.safetensors`) into `module`, renaming keys with
/// `remaps` and insisting that exactly `expected` tensors land.
fn load_file<B: Backend, M: ModuleSnapshot<B>>(
    module: &mut M,
    path: &Path,
    expected: usize,
    remaps: &[(String, String)],
) -> Result<()> {
    let fail = |message: String| ImageError::Weights {
        path: path.to_path_buf(),
        message,
    };
    if !path.is_file() {
        return Err(fail(format!("not found. {LPIPS_WEIGHTS_HELP}")));
    }
    let is_safetensors = path.extension().is_some_and(|e| e == "safetensors");
    let result = if is_safetensors {
        let store = SafetensorsStore::from_file(path)
            .validate(true)
            .allow_partial(true);
        let mut store = remaps.iter().fold(store, |store, (from, to)| {
            store.with_key_remapping(from, to)
        });
        module
            .load_from(&mut store)
            .map_err(|e| fail(e.to_string()))?
    } else {
        let store = PytorchStore::from_file(path)
            .map_indices_contiguous(false)
            .validate(true)
            .allow_partial(true);
        let mut store = remaps.iter().fold(store, |store, (from, to)| {
            store.with_key_remapping(from, to)
        });
        module
            .load_from(&mut store)
            .map_err(|e| fail(e.to_string()))?
    };
    if !result.errors.is_empty() || !result.missing.is_empty() || result.applied.len() != expected {
        let missing: Vec<&str> = result.missing.iter().map(|(p, _)| p.as_str()).collect();
        return Err(fail(format!(
            "loaded {} of {expected} tensors (missing: {missing:?}; errors: {:?}). {LPIPS_WEIGHTS_HELP}",
            result.applied.len(),
            result.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        )));
    }
    Ok(())
}
