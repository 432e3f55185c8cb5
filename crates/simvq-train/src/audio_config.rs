//! Everything an audio training run is configured by; one TOML file in `configs/`.

use serde::{Deserialize, Serialize};
use simvq_audio::{
    AudioCodecConfig, AudioDiscriminatorConfig, AudioLossConfig, DacConfig, MultiPeriodConfig,
    MultiResolutionConfig, SeanetConfig, VocosConfig,
};
use simvq_quant::{QuantizerConfig, SimVqConfig};

use crate::baseline::trained_codebook_size;
use crate::optimizer::OptimizerSettings;
use crate::schedule::{CodebookInit, EncoderInit, NonFinitePolicy, ScheduleSettings};

/// Audio data settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioDataSettings {
    /// Length of the random training crops in seconds (the reference's `clip_seconds`: 1).
    pub clip_seconds: f64,
    /// Clips per step (the reference's global batch, inferred from its released checkpoint's
    /// step count: 128).
    pub batch_size: usize,
    /// Seed of the data order and crops.
    pub seed: u64,
}

/// An audio codec training run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AudioTrainConfig {
    /// Encoder, SimVQ, backbone, iSTFT head (its `sample_rate` is the data's too).
    pub model: AudioCodecConfig,
    /// Multi-period, multi-resolution and DAC discriminators.
    pub discriminator: AudioDiscriminatorConfig,
    /// Loss weights and the mel spectrogram.
    pub loss: AudioLossConfig,
    /// Adam for both networks.
    pub optimizer: OptimizerSettings,
    /// Data.
    pub data: AudioDataSettings,
    /// Run length and bookkeeping.
    pub schedule: ScheduleSettings,
    /// Seed of the model initialisation and of dropout.
    pub seed: u64,
    /// Another quantizer in place of `model.quantizer`'s SimVQ, for comparisons with the
    /// baselines (`cargo xtask reproduce audio` sets it), e.g. `[baseline.Vq]` with
    /// `codebook_size` and `dim` (unnamed keys take the quantizer's defaults). Such a run
    /// trains and reports like any other, but `eval audio` and `simvq export` take SimVQ runs
    /// only.
    #[serde(default, deserialize_with = "crate::baseline::deserialize_baseline")]
    pub baseline: Option<QuantizerConfig>,
}

impl AudioTrainConfig {
    /// Number of codes of the quantizer the run trains (the baseline's when there is one).
    pub fn codebook_size(&self) -> usize {
        trained_codebook_size(self.baseline.as_ref(), &self.model.quantizer)
    }

    /// The reference run (`libritts_24khz`) with `codebook_size` codes (4,096 … 262,144).
    pub fn reference(codebook_size: usize) -> Self {
        Self {
            model: AudioCodecConfig::reference(codebook_size),
            discriminator: AudioDiscriminatorConfig::new(),
            loss: AudioLossConfig::new(),
            optimizer: OptimizerSettings::reference(),
            data: AudioDataSettings {
                clip_seconds: 1.0,
                batch_size: 128,
                seed: 0,
            },
            // 50 epochs of 2,772 steps (LibriTTS train, 354,780 utterances / 128).
            schedule: ScheduleSettings {
                steps: 138_600,
                ema_decay: 0.999,
                log_every: 100,
                checkpoint_every: 2_772,
                keep_checkpoints: 3,
                on_non_finite: NonFinitePolicy::Stop,
                encoder_init: EncoderInit::Random,
                codebook_init: CodebookInit::Random,
                codebook_refit_steps: 0,
                codebook_refit_rate: 1.0,
                eval_examples: 0,
                saved_examples: 4,
            },
            seed: 0,
            baseline: None,
        }
    }

    /// The built-in CPU demo: the reference's structure (causal SEANet with strides 2, 4, 5, 8
    /// and an LSTM, SimVQ, Vocos backbone with its attention pos-net, iSTFT head; MPD and MRD
    /// discriminators with every loss term) at a fraction of the width, on half-second crops
    /// of the built-in training speech, 512 codes, about five minutes on two cores. The DAC
    /// discriminator is off (`use_dac = false`): it would take 60% of the CPU step. The
    /// encoder and the codebook start from the data (`configs/demo_audio.toml` says why).
    pub fn demo() -> Self {
        let narrow = vec![8, 16, 32, 32, 32];
        Self {
            model: AudioCodecConfig::new(
                SeanetConfig::new()
                    .with_filters(8)
                    .with_dimension(64)
                    .with_lstm_layers(1),
                SimVqConfig::new().with_codebook_size(512).with_dim(64),
                VocosConfig::new()
                    .with_input_channels(64)
                    .with_dim(128)
                    .with_intermediate_dim(256)
                    .with_layers(2),
            ),
            discriminator: AudioDiscriminatorConfig::new()
                .with_mpd(MultiPeriodConfig::new().with_channels(narrow.clone()))
                .with_mrd(MultiResolutionConfig::new().with_channels(8))
                .with_dac(
                    DacConfig::new()
                        .with_period_channels(narrow)
                        .with_band_channels(8),
                )
                .with_use_dac(false),
            // Commitment 1, not 1000: at 1000 the encoder meets the commitment term by
            // putting every frame on one code.
            loss: AudioLossConfig::new().with_commitment_weight(1.0),
            // lr 2e-3 without warm-up and clipping diverged with the per-step refits.
            optimizer: OptimizerSettings {
                learning_rate: 1e-3,
                warmup_steps: 20,
                grad_clip_norm: Some(1.0),
                ..OptimizerSettings::reference()
            },
            data: AudioDataSettings {
                clip_seconds: 0.5,
                batch_size: 2,
                seed: 0,
            },
            schedule: ScheduleSettings {
                steps: 240,
                ema_decay: 0.95,
                log_every: 25,
                checkpoint_every: 100,
                keep_checkpoints: 2,
                on_non_finite: NonFinitePolicy::Stop,
                encoder_init: EncoderInit::Data,
                codebook_init: CodebookInit::Data,
                codebook_refit_steps: 240,
                codebook_refit_rate: 1.0,
                eval_examples: 0,
                saved_examples: 2,
            },
            seed: 0,
            baseline: None,
        }
    }
}
