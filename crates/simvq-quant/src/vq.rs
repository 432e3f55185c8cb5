//! The plain VQ baseline (VQ-VAE / taming's `VectorQuantizer2`): a learnable `[K, D]` codebook.
//!
//! Only the selected codes receive gradient, so codes that lose the nearest-neighbour race stop
//! moving and die: the codebook collapse SimVQ was made to fix. Kept minimal here so the
//! collapse can be shown next to SimVQ on the same data.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::{backend::Backend, Distribution, Tensor};
use rand::{rngs::StdRng, SeedableRng};

use crate::codebook::{Codebook, DEFAULT_SEARCH_BUDGET_BYTES};
use crate::error::QuantError;
use crate::estimator::GradientEstimator;
use crate::init::{check_codebook_config, seeded_param};
use crate::quantizer::{
    impl_quantizer_for_codebook, CodebookQuantizer, CodebookSettings, LossWeights,
};

/// Configuration of [`Vq`].
#[derive(Config, Debug)]
pub struct VqConfig {
    /// Number of codes `K`.
    pub codebook_size: usize,
    /// Code dimension `D`.
    pub dim: usize,
    /// Weight of the encoder-commitment term.
    #[config(default = 0.25)]
    pub beta: f64,
    /// Swap the two loss weights (taming's `legacy` mode).
    #[config(default = false)]
    pub legacy: bool,
    /// Seed of the codebook initialisation.
    #[config(default = 0)]
    pub seed: u64,
    /// Most bytes the nearest-code search may spend on distance scores at once.
    #[config(default = "DEFAULT_SEARCH_BUDGET_BYTES")]
    pub search_budget_bytes: usize,
    /// How gradients cross the code selection (the reference: straight-through).
    #[config(default = "GradientEstimator::StraightThrough")]
    pub estimator: GradientEstimator,
}

impl VqConfig {
    /// Builds the quantizer with codes `~ U(±1/K)`, taming's initialisation.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<Vq<B>, QuantError> {
        check_codebook_config(self.codebook_size, self.dim, self.beta)?;
        let mut rng = StdRng::seed_from_u64(self.seed);
        let bound = 1.0 / self.codebook_size as f64;
        let codebook = seeded_param(
            [self.codebook_size, self.dim],
            Distribution::Uniform(-bound, bound),
            &mut rng,
            true,
            device,
        );
        Ok(Vq {
            codebook,
            settings: CodebookSettings {
                loss_weights: LossWeights::from_beta(self.beta, self.legacy),
                search_budget_bytes: self.search_budget_bytes,
                estimator: self.estimator,
            },
        })
    }
}

/// Plain vector quantizer with a directly learned codebook. Build it with [`VqConfig::init`].
#[derive(Module, Debug)]
pub struct Vq<B: Backend> {
    /// The codes `[K, D]`, trained by the codebook loss term.
    pub codebook: Param<Tensor<B, 2>>,
    #[module(skip)]
    settings: CodebookSettings,
}

impl<B: Backend> CodebookQuantizer<B> for Vq<B> {
    fn codebook(&self) -> Codebook<B> {
        Codebook::new(self.codebook.val(), self.settings.search_budget_bytes)
    }

    fn codebook_shape(&self) -> [usize; 2] {
        self.codebook.dims()
    }

    fn settings(&self) -> CodebookSettings {
        self.settings
    }
}

impl_quantizer_for_codebook!(Vq);
