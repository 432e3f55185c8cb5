//! One config type and one module for "any quantizer of this crate", so a model config can pick
//! its quantizer by name (`configs/*.toml`) and the models stay generic over none of them.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{backend::Backend, Int, Tensor};

use crate::ema_vq::{EmaVq, EmaVqConfig};
use crate::error::QuantError;
use crate::fsq::{Fsq, FsqConfig};
use crate::lfq::{Lfq, LfqConfig};
use crate::quantizer::Quantizer;
use crate::quantizer_output::QuantizerOutput;
use crate::simvq::{SimVq, SimVqConfig};
use crate::vq::{Vq, VqConfig};

/// Which quantizer to build, with its settings. In TOML (serde's external tagging):
///
/// ```toml
/// [quantizer.SimVq]
/// codebook_size = 65536
/// dim = 128
/// ```
#[derive(Config, Debug)]
pub enum QuantizerConfig {
    /// SimVQ: frozen random codebook re-parameterised by a linear layer.
    SimVq(SimVqConfig),
    /// Plain VQ with a learned codebook (optionally factorized and l2-normalised: VQGAN-FC).
    Vq(VqConfig),
    /// VQ with an EMA codebook, k-means initialisation and dead-code replacement.
    EmaVq(EmaVqConfig),
    /// Finite scalar quantization.
    Fsq(FsqConfig),
    /// Lookup-free quantization (and BSQ with `spherical = true`).
    Lfq(LfqConfig),
}

impl QuantizerConfig {
    /// Number of codes `K` of the configured quantizer (FSQ: the product of its levels).
    pub fn codebook_size(&self) -> usize {
        match self {
            Self::SimVq(c) => c.codebook_size,
            Self::Vq(c) => c.codebook_size,
            Self::EmaVq(c) => c.codebook_size,
            Self::Fsq(c) => c.levels.iter().product(),
            Self::Lfq(c) => c.codebook_size,
        }
    }

    /// Builds the configured quantizer.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<AnyQuantizer<B>, QuantError> {
        Ok(match self {
            Self::SimVq(config) => AnyQuantizer::SimVq(config.init(device)?),
            Self::Vq(config) => AnyQuantizer::Vq(config.init(device)?),
            Self::EmaVq(config) => AnyQuantizer::EmaVq(config.init(device)?),
            Self::Fsq(config) => AnyQuantizer::Fsq(config.init(device)?),
            Self::Lfq(config) => AnyQuantizer::Lfq(config.init(device)?),
        })
    }
}

/// Any quantizer of this crate, as one module (saved and loaded like the others).
#[derive(Module, Debug)]
pub enum AnyQuantizer<B: Backend> {
    /// See [`SimVq`].
    SimVq(SimVq<B>),
    /// See [`Vq`].
    Vq(Vq<B>),
    /// See [`EmaVq`].
    EmaVq(EmaVq<B>),
    /// See [`Fsq`].
    Fsq(Fsq<B>),
    /// See [`Lfq`].
    Lfq(Lfq<B>),
}

impl<B: Backend> AnyQuantizer<B> {
    /// The variant's name, as the config spells it (`"SimVq"`, `"Vq"`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Self::SimVq(_) => "SimVq",
            Self::Vq(_) => "Vq",
            Self::EmaVq(_) => "EmaVq",
            Self::Fsq(_) => "Fsq",
            Self::Lfq(_) => "Lfq",
        }
    }

    fn inner(&self) -> &dyn Quantizer<B> {
        match self {
            Self::SimVq(q) => q,
            Self::Vq(q) => q,
            Self::EmaVq(q) => q,
            Self::Fsq(q) => q,
            Self::Lfq(q) => q,
        }
    }
}

impl<B: Backend> Quantizer<B> for AnyQuantizer<B> {
    fn codebook_size(&self) -> usize {
        self.inner().codebook_size()
    }

    fn dim(&self) -> usize {
        self.inner().dim()
    }

    fn forward(&self, z: Tensor<B, 2>) -> crate::Result<QuantizerOutput<B, 2, 1>> {
        self.inner().forward(z)
    }

    fn decode_indices(&self, indices: Tensor<B, 1, Int>) -> crate::Result<Tensor<B, 2>> {
        self.inner().decode_indices(indices)
    }
}
