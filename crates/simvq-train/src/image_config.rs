//! Everything an image training run is configured by; one TOML file in `configs/`.

use serde::{Deserialize, Serialize};
use simvq_data::{Augment, Crop, ImageTransform};
use simvq_image::{
    AutoencoderConfig, ImageLossConfig, ImageTokenizerConfig, PatchDiscriminatorConfig,
};
use simvq_quant::{QuantizerConfig, SimVqConfig};

use crate::baseline::trained_codebook_size;
use crate::optimizer::{LrDecay, OptimizerSettings};
use crate::schedule::{CodebookInit, EncoderInit, NonFinitePolicy, ScheduleSettings};

/// The paths of LPIPS' two weight files (see `simvq_metrics::LpipsNet::weights_help`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LpipsFiles {
    /// torchvision's `vgg16-397923af.pth` (or the same tensors as `.safetensors`).
    pub backbone: Option<String>,
    /// LPIPS v0.1 `vgg.pth`.
    pub heads: Option<String>,
}

/// Image data settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageDataSettings {
    /// Side of the square training images (128 in the reference).
    pub image_size: u32,
    /// Images per step (the reference's global batch is 256: 4 GPUs × 64).
    pub batch_size: usize,
    /// Seed of the data order and crops.
    pub seed: u64,
    /// How training images are cut (`resized`: the reference's shorter side to `image_size`
    /// then a random crop; `patch`: random `image_size²` patches at the stored resolution).
    #[serde(default)]
    pub train_crop: TrainCrop,
    /// Side of the evaluation images (shorter side resized to it, centre crop); default
    /// `image_size`. The demo trains on 32² patches and evaluates whole 64² photos.
    #[serde(default)]
    pub eval_size: Option<u32>,
    /// Random symmetries of the training crops: `none` (the reference: no flip) or
    /// `dihedral` (the eight flips and quarter turns).
    #[serde(default)]
    pub augment: TrainAugment,
}

/// How training images are cut from the files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainCrop {
    /// Shorter side resized to `image_size`, then a random square (the reference).
    #[default]
    Resized,
    /// A random `image_size²` patch of the image as stored.
    Patch,
}

/// Random symmetries of the training crops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainAugment {
    /// None (the reference).
    #[default]
    None,
    /// A uniformly random flip or quarter turn of each crop.
    Dihedral,
}

impl ImageDataSettings {
    /// The training transform.
    pub fn train_transform(&self) -> ImageTransform {
        ImageTransform {
            size: self.image_size,
            crop: match self.train_crop {
                TrainCrop::Resized => Crop::Random,
                TrainCrop::Patch => Crop::RandomPatch,
            },
            augment: match self.augment {
                TrainAugment::None => Augment::None,
                TrainAugment::Dihedral => Augment::Dihedral,
            },
        }
    }

    /// The evaluation transform (centre crop at `eval_size`, or `image_size`).
    pub fn eval_transform(&self) -> ImageTransform {
        ImageTransform {
            size: self.eval_size.unwrap_or(self.image_size),
            crop: Crop::Center,
            augment: Augment::None,
        }
    }
}

/// An image tokenizer training run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageTrainConfig {
    /// Encoder, SimVQ, decoder.
    pub model: ImageTokenizerConfig,
    /// PatchGAN.
    pub discriminator: PatchDiscriminatorConfig,
    /// Loss weights.
    pub loss: ImageLossConfig,
    /// LPIPS weight files (needed when `loss.perceptual_weight > 0`).
    pub lpips: LpipsFiles,
    /// Adam for both networks.
    pub optimizer: OptimizerSettings,
    /// Data.
    pub data: ImageDataSettings,
    /// Run length and bookkeeping.
    pub schedule: ScheduleSettings,
    /// Seed of the model initialisation.
    pub seed: u64,
    /// Reproduce the reference's step where it differs from a clean GAN step: D's update also
    /// receives the generator's GAN loss's gradient with respect to D (the reference's
    /// `opt_gen.zero_grad()` leaves it in place). For its per-GPU BatchNorm statistics set
    /// `discriminator.batchnorm_batch` (64 for the reference's 4 × 64). Off by default.
    #[serde(default)]
    pub reference_exact: bool,
    /// Another quantizer in place of `model.quantizer`'s SimVQ, for comparisons with the
    /// baselines of Table 1 (`cargo xtask reproduce image` sets it), e.g.
    /// `[baseline.Vq]` with `codebook_size` and `dim` (unnamed keys take the quantizer's
    /// defaults). Such a run trains and reports like any
    /// other, but `eval image` and `simvq export` take SimVQ runs only.
    #[serde(default, deserialize_with = "crate::baseline::deserialize_baseline")]
    pub baseline: Option<QuantizerConfig>,
}

impl ImageTrainConfig {
    /// Number of codes of the quantizer the run trains (the baseline's when there is one).
    pub fn codebook_size(&self) -> usize {
        trained_codebook_size(self.baseline.as_ref(), &self.model.quantizer)
    }

    /// The reference run (`imagenet_simvq_128_B`) with `codebook_size` codes.
    pub fn reference(codebook_size: usize) -> Self {
        Self {
            model: ImageTokenizerConfig::reference(codebook_size),
            discriminator: PatchDiscriminatorConfig::new(),
            loss: ImageLossConfig::new(),
            lpips: LpipsFiles::default(),
            optimizer: OptimizerSettings::reference(),
            data: ImageDataSettings {
                image_size: 128,
                batch_size: 256,
                seed: 0,
                train_crop: TrainCrop::Resized,
                eval_size: None,
                augment: TrainAugment::None,
            },
            schedule: ScheduleSettings {
                steps: 250_250,
                ema_decay: 0.999,
                log_every: 100,
                checkpoint_every: 5_005,
                keep_checkpoints: 3,
                on_non_finite: NonFinitePolicy::Stop,
                encoder_init: EncoderInit::Random,
                codebook_init: CodebookInit::Random,
                codebook_refit_steps: 0,
                codebook_refit_rate: 1.0,
                eval_examples: 0,
                saved_examples: 8,
            },
            seed: 0,
            reference_exact: false,
            baseline: None,
        }
    }

    /// The built-in CPU demo (`configs/demo_image.toml`, which says why each setting differs
    /// from the reference): the same architecture, narrower (32 channels, one block per level)
    /// and f4, 512 codes, on random 32² patches of the built-in training photos, evaluated on
    /// the whole 64² validation photos; no LPIPS, no GAN term, the codebook moved towards the
    /// latents every step, flips, a cosine learning rate, 1,800 steps (under ten minutes on
    /// two cores).
    pub fn demo() -> Self {
        let autoencoder = AutoencoderConfig::new()
            .with_channels(32)
            .with_channel_multipliers(vec![1, 2, 4])
            .with_res_blocks(1)
            .with_z_channels(32);
        Self {
            model: ImageTokenizerConfig::new(
                autoencoder,
                SimVqConfig::new().with_codebook_size(512).with_dim(32),
            ),
            discriminator: PatchDiscriminatorConfig::new().with_base_channels(32),
            loss: ImageLossConfig::new()
                .with_perceptual_weight(0.0)
                .with_generator_weight(0.0),
            lpips: LpipsFiles::default(),
            optimizer: OptimizerSettings {
                learning_rate: 6e-4,
                decay: LrDecay::Cosine,
                ..OptimizerSettings::reference()
            },
            data: ImageDataSettings {
                image_size: 32,
                batch_size: 4,
                seed: 0,
                train_crop: TrainCrop::Patch,
                eval_size: Some(64),
                augment: TrainAugment::Dihedral,
            },
            schedule: ScheduleSettings {
                steps: 1_800,
                ema_decay: 0.0,
                log_every: 100,
                checkpoint_every: 500,
                keep_checkpoints: 2,
                on_non_finite: NonFinitePolicy::Stop,
                encoder_init: EncoderInit::Random,
                codebook_init: CodebookInit::Data,
                codebook_refit_steps: 1_800,
                codebook_refit_rate: 0.1,
                eval_examples: 0,
                saved_examples: 10,
            },
            seed: 0,
            reference_exact: false,
            baseline: None,
        }
    }
}
