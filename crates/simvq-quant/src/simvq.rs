//! SimVQ (arXiv 2411.02038): a frozen random codebook `C` re-parameterised by one linear layer.
//!
//! The effective codebook is `E = C·Wᵀ + b`. Only `W` and `b` learn, and since every code is
//! a function of them, each step moves the whole codebook: no code is left behind, so
//! utilization stays near 100% even at 262,144 codes.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{backend::Backend, Distribution, Tensor};
use rand::{rngs::StdRng, SeedableRng};

use crate::codebook::{Codebook, DEFAULT_SEARCH_BUDGET_BYTES};
use crate::error::QuantError;
use crate::estimator::GradientEstimator;
use crate::init::{check_codebook_config, seeded_param};
use crate::quantizer::{
    impl_quantizer_for_codebook, CodebookQuantizer, CodebookSettings, LossWeights,
};

/// Configuration of [`SimVq`]. Defaults are those of the reference configs.
#[derive(Config, Debug)]
pub struct SimVqConfig {
    /// Number of codes `K` (the reference releases 1,024 … 262,144).
    pub codebook_size: usize,
    /// Code dimension `D` (128 for images, 512 for audio in the reference).
    pub dim: usize,
    /// Weight of the encoder-commitment term.
    #[config(default = 0.25)]
    pub beta: f64,
    /// Swap the two loss weights as taming's historical `legacy` mode does (the reference
    /// configs use `false`).
    #[config(default = false)]
    pub legacy: bool,
    /// Give the projection `W` a bias `b` (the reference does).
    #[config(default = true)]
    pub bias: bool,
    /// Keep `C` frozen (the method). `false` trains `C` together with `W`, which the paper
    /// warns may collapse again; there for ablations.
    #[config(default = true)]
    pub freeze_codebook: bool,
    /// Seed of `C`, `W` and `b`: the same seed gives the same quantizer on every backend.
    #[config(default = 0)]
    pub seed: u64,
    /// Most bytes the nearest-code search may spend on distance scores at once.
    #[config(default = "DEFAULT_SEARCH_BUDGET_BYTES")]
    pub search_budget_bytes: usize,
    /// How gradients cross the code selection (the reference: straight-through).
    #[config(default = "GradientEstimator::StraightThrough")]
    pub estimator: GradientEstimator,
}

impl SimVqConfig {
    /// Builds the quantizer: `C ~ N(0, dim^-½)`, and `W`, `b ~ U(±dim^-½)` (PyTorch's
    /// `nn.Linear` default), all from `seed`.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<SimVq<B>, QuantError> {
        check_codebook_config(self.codebook_size, self.dim, self.beta)?;
        let mut rng = StdRng::seed_from_u64(self.seed);
        let (k, d) = (self.codebook_size, self.dim);
        let std = (d as f64).powf(-0.5);
        let frozen_codebook = seeded_param(
            [k, d],
            Distribution::Normal(0.0, std),
            &mut rng,
            !self.freeze_codebook,
            device,
        );
        // burn's Linear stores W as [d_in, d_out], i.e. PyTorch's weight transposed.
        let uniform = Distribution::Uniform(-std, std);
        let weight = seeded_param([d, d], uniform, &mut rng, true, device);
        let bias = self
            .bias
            .then(|| seeded_param([d], uniform, &mut rng, true, device));
        Ok(SimVq {
            frozen_codebook,
            projection: Linear { weight, bias },
            settings: CodebookSettings {
                loss_weights: LossWeights::from_beta(self.beta, self.legacy),
                search_budget_bytes: self.search_budget_bytes,
                estimator: self.estimator,
            },
        })
    }
}

/// The SimVQ quantizer. Build it with [`SimVqConfig::init`].
#[derive(Module, Debug)]
pub struct SimVq<B: Backend> {
    /// The random basis `C` (`[K, D]`). Not trained (unless the config says otherwise), but
    /// saved and loaded with the module: it cannot be regenerated from a released checkpoint.
    pub frozen_codebook: Param<Tensor<B, 2>>,
    /// The learnable projection `W` (with bias `b`); `E = C·Wᵀ + b`.
    pub projection: Linear<B>,
    #[module(skip)]
    settings: CodebookSettings,
}

impl<B: Backend> CodebookQuantizer<B> for SimVq<B> {
    /// The effective codebook `E = C·Wᵀ + b`, ready for search.
    ///
    /// The forward pass rebuilds it every call, as training needs. In inference build it once
    /// and reuse it for every batch: it costs a `[K, D] × [D, D]` product.
    fn codebook(&self) -> Codebook<B> {
        let codes = self.projection.forward(self.frozen_codebook.val());
        Codebook::new(codes, self.settings.search_budget_bytes)
    }

    fn codebook_shape(&self) -> [usize; 2] {
        self.frozen_codebook.dims()
    }

    fn settings(&self) -> CodebookSettings {
        self.settings
    }
}

impl_quantizer_for_codebook!(SimVq);
