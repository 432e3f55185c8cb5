//! The codec's training objective (the reference's `speech_loss.py`): 45 × log-mel L1, the
//! Vocos multi-period and multi-resolution GAN terms (hinge, feature matching, averaged over
//! sub-discriminators), DAC's terms (least squares, feature matching, summed) and
//! 1000 × the quantizer loss; and the discriminators' objective.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{backend::Backend, Tensor};
use simvq_quant::QuantLoss;

use crate::audio_discriminator::AudioVerdicts;
use crate::dac_discriminator::{
    dac_feature_matching_loss, lsgan_discriminator_loss, lsgan_generator_loss,
};
use crate::discriminator::{feature_matching_loss, hinge_discriminator_loss, hinge_generator_loss};
use crate::mel::{MelConfig, MelSpectrogram};

/// Weights of the generator objective; defaults are the reference's.
#[derive(Config, Debug, PartialEq)]
pub struct AudioLossConfig {
    /// Log-mel L1 (`mel_loss_coeff`).
    #[config(default = 45.0)]
    pub mel_weight: f64,
    /// Quantizer loss (`commit_weight`).
    #[config(default = 1000.0)]
    pub commitment_weight: f64,
    /// Every GAN and feature-matching term (`gen_loss_weight`).
    #[config(default = 1.0)]
    pub generator_weight: f64,
    /// The multi-resolution discriminator's terms, within the GAN sum (`mrd_loss_coeff`).
    #[config(default = 1.0)]
    pub mrd_weight: f64,
    /// The mel spectrogram of the L1 term.
    #[config(default = "MelConfig::new()")]
    pub mel: MelConfig,
}

/// The reference's discriminator objective from the verdicts on real audio and on detached
/// reconstructions: MPD hinge / 5 + `mrd_weight` · MRD hinge / 3 + DAC least squares.
pub fn audio_discriminator_loss<B: Backend>(
    real: &AudioVerdicts<B>,
    fake: &AudioVerdicts<B>,
    mrd_weight: f64,
) -> Tensor<B, 1> {
    let mut loss = hinge_discriminator_loss(&real.mpd, &fake.mpd)
        + hinge_discriminator_loss(&real.mrd, &fake.mrd) * mrd_weight;
    if !real.dac.is_empty() {
        loss = loss + lsgan_discriminator_loss(&real.dac, &fake.dac);
    }
    loss
}

/// The generator objective and its parts (unweighted), each `[1]`.
#[derive(Debug, Clone)]
pub struct AudioGeneratorLoss<B: Backend> {
    /// What is minimised.
    pub total: Tensor<B, 1>,
    /// Log-mel L1.
    pub mel: Tensor<B, 1>,
    /// GAN terms of every discriminator (MRD's weighted by `mrd_weight`).
    pub adversarial: Tensor<B, 1>,
    /// Feature matching of every discriminator (MRD's weighted by `mrd_weight`).
    pub feature_matching: Tensor<B, 1>,
    /// Quantizer loss.
    pub commitment: Tensor<B, 1>,
}

/// The generator objective (holds the mel filterbank).
#[derive(Module, Debug)]
pub struct AudioLoss<B: Backend> {
    mel: MelSpectrogram<B>,
    mel_weight: f64,
    commitment_weight: f64,
    generator_weight: f64,
    mrd_weight: f64,
}

impl AudioLossConfig {
    /// Builds the loss.
    pub fn init<B: Backend>(&self, device: &B::Device) -> AudioLoss<B> {
        AudioLoss {
            mel: self.mel.init(device),
            mel_weight: self.mel_weight,
            commitment_weight: self.commitment_weight,
            generator_weight: self.generator_weight,
            mrd_weight: self.mrd_weight,
        }
    }
}

impl<B: Backend> AudioLoss<B> {
    /// The multi-resolution terms' weight (the discriminator objective uses it too).
    pub fn mrd_weight(&self) -> f64 {
        self.mrd_weight
    }

    /// The generator loss of reconstructions `x̂` of `x` (`[B, T]`, same length), given the
    /// discriminators' verdicts on both (`real` may be detached: the generator's gradient does
    /// not depend on it) and the quantizer loss.
    pub fn generator(
        &self,
        x: Tensor<B, 2>,
        x_hat: Tensor<B, 2>,
        real: &AudioVerdicts<B>,
        fake: &AudioVerdicts<B>,
        quant: &QuantLoss<B>,
    ) -> AudioGeneratorLoss<B> {
        let mel = self.mel.log_mel_l1(x_hat, x);
        let mut adversarial =
            hinge_generator_loss(&fake.mpd) + hinge_generator_loss(&fake.mrd) * self.mrd_weight;
        let mut feature_matching = feature_matching_loss(&real.mpd, &fake.mpd)
            + feature_matching_loss(&real.mrd, &fake.mrd) * self.mrd_weight;
        if !fake.dac.is_empty() {
            adversarial = adversarial + lsgan_generator_loss(&fake.dac);
            feature_matching = feature_matching + dac_feature_matching_loss(&real.dac, &fake.dac);
        }
        let commitment = quant.total();
        let total = (adversarial.clone() + feature_matching.clone()) * self.generator_weight
            + mel.clone() * self.mel_weight
            + commitment.clone() * self.commitment_weight;
        AudioGeneratorLoss {
            total,
            mel,
            adversarial,
            feature_matching,
            commitment,
        }
    }
}
