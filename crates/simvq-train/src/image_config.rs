//! Everything an image training run is configured by; one TOML file in `configs/`.

use serde::{Deserialize, Serialize};
use simvq_image::{
    AutoencoderConfig, ImageLossConfig, ImageTokenizerConfig, PatchDiscriminatorConfig,
};
use simvq_quant::SimVqConfig;

use crate::optimizer::OptimizerSettings;

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
}

/// What to do when a loss is NaN or infinite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NonFinitePolicy {
    /// Stop with an error naming the step; the last checkpoint stays as it was.
    Stop,
    /// Skip the update for this batch and go on (the skip is counted and logged).
    Skip,
}

/// Length of the run, logging, checkpoints and the final evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleSettings {
    /// Generator steps in total (the reference: 50 epochs × 5,005 = 250,250).
    pub steps: usize,
    /// EMA decay of the weights used for evaluation and export.
    pub ema_decay: f64,
    /// Steps between log lines (loss averages, codebook utilization).
    pub log_every: usize,
    /// Steps between checkpoints (one is always written at the end).
    pub checkpoint_every: usize,
    /// Checkpoints kept on disk.
    pub keep_checkpoints: usize,
    /// NaN/inf losses: stop or skip.
    pub on_non_finite: NonFinitePolicy,
    /// Validation examples (images, utterances) reconstructed with the EMA weights for the
    /// final metrics; 0 = all.
    pub eval_examples: usize,
    /// Examples shown after the run: images in the PNG grid of originals above
    /// reconstructions; utterances saved as WAV pairs and drawn as mel spectrograms.
    pub saved_examples: usize,
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
}

impl ImageTrainConfig {
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
            },
            schedule: ScheduleSettings {
                steps: 250_250,
                ema_decay: 0.999,
                log_every: 100,
                checkpoint_every: 5_005,
                keep_checkpoints: 3,
                on_non_finite: NonFinitePolicy::Stop,
                eval_examples: 0,
                saved_examples: 8,
            },
            seed: 0,
        }
    }

    /// The built-in CPU demo: the same architecture, narrower (32 channels, one block per
    /// level) and f4 instead of f8, on random 32² crops of the seven demo photos (8×8 tokens
    /// each), 512 codes, 400 steps: about three minutes on two cores. Without LPIPS (its weights are a
    /// download).
    pub fn demo() -> Self {
        let autoencoder = AutoencoderConfig::new()
            .with_channels(32)
            .with_channel_multipliers(vec![1, 2, 4])
            .with_res_blocks(1)
            .with_z_channels(32);
        Self {
            model: ImageTokenizerConfig::new(autoencoder, SimVqConfig::new(512, 32)),
            discriminator: PatchDiscriminatorConfig::new().with_base_channels(32),
            loss: ImageLossConfig::new().with_perceptual_weight(0.0),
            lpips: LpipsFiles::default(),
            optimizer: OptimizerSettings {
                learning_rate: 4e-4,
                ..OptimizerSettings::reference()
            },
            data: ImageDataSettings {
                image_size: 32,
                batch_size: 4,
                seed: 0,
            },
            schedule: ScheduleSettings {
                steps: 400,
                ema_decay: 0.99,
                log_every: 25,
                checkpoint_every: 100,
                keep_checkpoints: 2,
                on_non_finite: NonFinitePolicy::Stop,
                eval_examples: 0,
                saved_examples: 7,
            },
            seed: 0,
        }
    }
}
