//! The reference's three discriminators as one module, trained by one optimizer as in the
//! reference: the multi-period, the multi-resolution and (optionally) DAC's.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{backend::Backend, Tensor};
use simvq_quant::SeededInit;

use crate::dac_discriminator::{DacConfig, DacDiscriminator};
use crate::discriminator::{
    MultiPeriodConfig, MultiPeriodDiscriminator, MultiResolutionConfig,
    MultiResolutionDiscriminator, Verdict,
};

/// The discriminators of the reference, as one module (one optimizer, one EMA).
#[derive(Config, Debug, PartialEq)]
pub struct AudioDiscriminatorConfig {
    /// Vocos/HiFi-GAN multi-period discriminator.
    #[config(default = "MultiPeriodConfig::new()")]
    pub mpd: MultiPeriodConfig,
    /// UnivNet multi-resolution discriminator.
    #[config(default = "MultiResolutionConfig::new()")]
    pub mrd: MultiResolutionConfig,
    /// DAC's discriminator.
    #[config(default = "DacConfig::new()")]
    pub dac: DacConfig,
    /// Train with the DAC discriminator and its terms (the reference does; on a CPU it is
    /// the costliest of the three).
    #[config(default = true)]
    pub use_dac: bool,
}

impl AudioDiscriminatorConfig {
    /// Builds the discriminators, drawn from seed 0 ([`init_seeded`](Self::init_seeded) takes
    /// another).
    pub fn init<B: Backend>(&self, device: &B::Device) -> AudioDiscriminator<B> {
        self.init_seeded(&SeededInit::new(0, device))
    }

    /// Builds the discriminators (multi-period, multi-resolution, DAC), drawn from `init`.
    pub fn init_seeded<B: Backend>(&self, init: &SeededInit<B>) -> AudioDiscriminator<B> {
        AudioDiscriminator {
            mpd: self.mpd.init(init),
            mrd: self.mrd.init(init),
            dac: self.use_dac.then(|| self.dac.init(init)),
        }
    }
}

/// Multi-period, multi-resolution and (optionally) DAC discriminators.
#[derive(Module, Debug)]
pub struct AudioDiscriminator<B: Backend> {
    /// Multi-period.
    pub mpd: MultiPeriodDiscriminator<B>,
    /// Multi-resolution.
    pub mrd: MultiResolutionDiscriminator<B>,
    /// DAC.
    pub dac: Option<DacDiscriminator<B>>,
}

/// Every sub-discriminator's verdict on one batch of waveforms.
#[derive(Debug, Clone)]
pub struct AudioVerdicts<B: Backend> {
    /// Multi-period.
    pub mpd: Vec<Verdict<B>>,
    /// Multi-resolution.
    pub mrd: Vec<Verdict<B>>,
    /// DAC (empty without it).
    pub dac: Vec<Verdict<B>>,
}

impl<B: Backend> AudioDiscriminator<B> {
    /// The verdicts on waveforms `[B, T]`.
    pub fn forward(&self, wave: Tensor<B, 2>) -> AudioVerdicts<B> {
        AudioVerdicts {
            mpd: self.mpd.forward(wave.clone()),
            mrd: self.mrd.forward(wave.clone()),
            dac: self.dac.as_ref().map_or_else(Vec::new, |d| d.forward(wave)),
        }
    }
}

impl<B: Backend> AudioVerdicts<B> {
    /// The same verdicts cut from the graph (for the generator's feature matching, whose
    /// gradient must not reach the discriminator).
    pub fn detach(&self) -> Self {
        let cut = |verdicts: &[Verdict<B>]| {
            verdicts
                .iter()
                .map(|v| Verdict {
                    logits: v.logits.clone().detach(),
                    features: v.features.iter().map(|f| f.clone().detach()).collect(),
                })
                .collect()
        };
        Self {
            mpd: cut(&self.mpd),
            mrd: cut(&self.mrd),
            dac: cut(&self.dac),
        }
    }
}
