//! SimVQ (arXiv 2411.02038): a frozen random codebook `C` re-parameterised by one linear layer.
//!
//! The effective codebook is `E = C·Wᵀ + b`. Only `W` and `b` learn, and since every code is
//! a function of them, each step moves the whole codebook: no code is left behind, so
//! utilization stays near 100% even at 262,144 codes.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{backend::Backend, Distribution, Tensor, TensorData};
use rand::{rngs::StdRng, SeedableRng};
use safetensors::{Dtype, SafeTensors};

use crate::codebook::{Codebook, DEFAULT_SEARCH_BUDGET_BYTES};
use crate::error::QuantError;
use crate::estimator::GradientEstimator;
use crate::init::{check_codebook_config, seeded_param};
use crate::quant_loss::LossWeights;
use crate::quantizer::{impl_quantizer_for_codebook, CodebookQuantizer, CodebookSettings};

/// Configuration of [`SimVq`]. Defaults are those of the reference configs.
#[derive(Config, Debug)]
pub struct SimVqConfig {
    /// Number of codes `K` (the reference releases 1,024 … 262,144). Named, with the
    /// reference image run's 65,536 by default, so K and D cannot be swapped by position:
    /// `SimVqConfig::new().with_codebook_size(k).with_dim(d)`.
    #[config(default = 65_536)]
    pub codebook_size: usize,
    /// Code dimension `D` (128 for images, 512 for audio in the reference).
    #[config(default = 128)]
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
    /// Where `C` comes from: Gaussian (SimVQ) or a file of features (VQGAN-LC style).
    #[config(default = "FrozenCodebook::Gaussian")]
    pub frozen_codebook: FrozenCodebook,
    /// Width of a Gaussian `C` when it should differ from `dim` (`W` then maps it to `dim`).
    /// A file's `C` has the width of its rows.
    pub frozen_codebook_dim: Option<usize>,
}

/// The source of SimVQ's frozen codebook `C`.
#[derive(Config, Debug, PartialEq)]
pub enum FrozenCodebook {
    /// `C ~ N(0, width^-½)` drawn from the config's seed: SimVQ.
    Gaussian,
    /// The rows of the one 2-D tensor (f32, f16 or bf16) in this safetensors file, e.g.
    /// features of real images, as VQGAN-LC's frozen codebook with a learned projector.
    File(String),
}

impl FrozenCodebook {
    /// The `[K, width]` codebook data.
    fn load(&self, k: usize, width: usize, rng: &mut StdRng) -> Result<TensorData, QuantError> {
        match self {
            Self::Gaussian => {
                let std = (width as f64).powf(-0.5);
                Ok(TensorData::random::<f32, _, _>(
                    [k, width],
                    Distribution::Normal(0.0, std),
                    rng,
                ))
            }
            Self::File(path) => load_codebook_file(path, k),
        }
    }
}

/// Reads the single 2-D tensor of a safetensors file and checks it has `k` rows.
fn load_codebook_file(path: &str, k: usize) -> Result<TensorData, QuantError> {
    let fail = |reason: String| QuantError::CodebookFile {
        path: path.to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read it ({e})")))?;
    let file = SafeTensors::deserialize(&bytes)
        .map_err(|e| fail(format!("not a safetensors file ({e})")))?;
    let names = file.names();
    let [name] = names.as_slice() else {
        return Err(fail(format!(
            "expected exactly one tensor, found {}: {names:?}",
            names.len()
        )));
    };
    let view = file.tensor(name).map_err(|e| fail(e.to_string()))?;
    let &[rows, width] = view.shape() else {
        return Err(fail(format!(
            "tensor `{name}` has shape {:?}; need [codes, width]",
            view.shape()
        )));
    };
    if rows != k {
        return Err(fail(format!(
            "tensor `{name}` has {rows} rows but codebook_size is {k}; set codebook_size = {rows}"
        )));
    }
    let data = view.data();
    let values: Vec<f32> = match view.dtype() {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Dtype::F16 => data
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        other => {
            return Err(fail(format!(
                "tensor `{name}` is {other:?}; need f32, f16 or bf16"
            )))
        }
    };
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(fail(format!(
            "tensor `{name}` holds a non-finite value at flat index {i}"
        )));
    }
    Ok(TensorData::new(values, [rows, width]))
}

impl SimVqConfig {
    /// Builds the quantizer: `C` from its source (by default `N(0, dim^-½)`), and `W`,
    /// `b ~ U(±width^-½)` (PyTorch's `nn.Linear` default), all from `seed`.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<SimVq<B>, QuantError> {
        check_codebook_config(self.codebook_size, self.dim, self.beta)?;
        let mut rng = StdRng::seed_from_u64(self.seed);
        let (k, d) = (self.codebook_size, self.dim);
        let width = self.frozen_codebook_dim.unwrap_or(d);
        if width == 0 {
            return Err(QuantError::InvalidConfig(
                "frozen_codebook_dim must be at least 1".into(),
            ));
        }
        let data = self.frozen_codebook.load(k, width, &mut rng)?;
        let width = data.shape[1];
        let frozen_codebook =
            Param::from_data(data, device).set_require_grad(!self.freeze_codebook);
        // burn's Linear stores W as [d_in, d_out], i.e. PyTorch's weight transposed.
        let bound = (width as f64).powf(-0.5);
        let uniform = Distribution::Uniform(-bound, bound);
        let weight = seeded_param([width, d], uniform, &mut rng, true, device);
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
    /// The random basis `C` (`[K, width]`, width = `D` unless configured otherwise). Not trained (unless the config says otherwise), but
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

    fn settings(&self) -> CodebookSettings {
        self.settings
    }
}

impl_quantizer_for_codebook!(SimVq, |q| codebook_size: q.frozen_codebook.dims()[0], dim: q.projection.weight.dims()[1]);
