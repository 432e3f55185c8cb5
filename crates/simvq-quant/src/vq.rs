//! Plain VQ (VQ-VAE / taming's `VectorQuantizer2`, Table 1's "VQGAN"): a learnable codebook.
//!
//! Only the selected codes receive gradient, so codes that lose the nearest-neighbour race stop
//! moving and die: the codebook collapse SimVQ was made to fix. Options give Table 1's
//! "VQGAN-FC" (ViT-VQGAN's factorized codes): look codes up in a low-dimensional space
//! (`codebook_dim`, with linear projections in and out) and l2-normalise inputs and codes
//! (`l2_normalize`), so the search is by cosine similarity.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{backend::Backend, Distribution, Tensor};
use rand::{rngs::StdRng, SeedableRng};

use crate::codebook::{Codebook, DEFAULT_SEARCH_BUDGET_BYTES};
use crate::error::QuantError;
use crate::estimator::GradientEstimator;
use crate::init::{check_codebook_config, seeded_param};
use crate::projection::{l2_normalize, project, projections};
use crate::quant_loss::LossWeights;
use crate::quantizer::{impl_quantizer_for_codebook, CodebookQuantizer, CodebookSettings};

/// Configuration of [`Vq`].
#[derive(Config, Debug)]
pub struct VqConfig {
    /// Number of codes `K` (named, as SimVQ's: `new().with_codebook_size(k).with_dim(d)`).
    #[config(default = 65_536)]
    pub codebook_size: usize,
    /// Code dimension `D`.
    #[config(default = 128)]
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
    /// Width of the codes when it should differ from `dim` (factorized lookup, e.g. 8 or 32
    /// in VQGAN-FC); linear projections map features in and out.
    pub codebook_dim: Option<usize>,
    /// Normalise inputs and codes to unit length before the search (cosine similarity).
    #[config(default = false)]
    pub l2_normalize: bool,
    /// Give the projections a bias.
    #[config(default = true)]
    pub projection_bias: bool,
}

impl VqConfig {
    /// Builds the quantizer with codes `~ U(±1/K)`, taming's initialisation.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<Vq<B>, QuantError> {
        check_codebook_config(self.codebook_size, self.dim, self.beta)?;
        let codebook_dim = self.codebook_dim.unwrap_or(self.dim);
        if codebook_dim == 0 {
            return Err(QuantError::InvalidConfig(
                "codebook_dim must be at least 1".into(),
            ));
        }
        let mut rng = StdRng::seed_from_u64(self.seed);
        let bound = 1.0 / self.codebook_size as f64;
        let codebook = seeded_param(
            [self.codebook_size, codebook_dim],
            Distribution::Uniform(-bound, bound),
            &mut rng,
            true,
            device,
        );
        let (project_in, project_out) = projections(
            self.dim,
            codebook_dim,
            self.projection_bias,
            &mut rng,
            device,
        );
        Ok(Vq {
            codebook,
            project_in,
            project_out,
            l2_normalize: self.l2_normalize,
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
    /// The codes `[K, codebook_dim]`, trained by the codebook loss term.
    pub codebook: Param<Tensor<B, 2>>,
    /// `dim → codebook_dim`, when they differ.
    pub project_in: Option<Linear<B>>,
    /// `codebook_dim → dim`, when they differ.
    pub project_out: Option<Linear<B>>,
    l2_normalize: bool,
    #[module(skip)]
    settings: CodebookSettings,
}

impl<B: Backend> Vq<B> {
    fn maybe_normalize(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        if self.l2_normalize {
            l2_normalize(x)
        } else {
            x
        }
    }
}

impl<B: Backend> Vq<B> {
    /// Width of the features it takes: the input projection's, or the codes'.
    fn input_dim(&self) -> usize {
        match &self.project_in {
            Some(linear) => linear.weight.dims()[0],
            None => self.codebook.dims()[1],
        }
    }
}

impl<B: Backend> CodebookQuantizer<B> for Vq<B> {
    fn codebook(&self) -> Codebook<B> {
        let codes = self.maybe_normalize(self.codebook.val());
        Codebook::new(codes, self.settings.search_budget_bytes)
    }

    fn project_to_codebook(&self, z: Tensor<B, 2>) -> Tensor<B, 2> {
        self.maybe_normalize(project(&self.project_in, z))
    }

    fn project_from_codebook(&self, codes: Tensor<B, 2>) -> Tensor<B, 2> {
        project(&self.project_out, codes)
    }

    fn settings(&self) -> CodebookSettings {
        self.settings
    }
}

impl_quantizer_for_codebook!(Vq, |q| codebook_size: q.codebook.dims()[0], dim: q.input_dim());
