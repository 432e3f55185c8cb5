//! Finite Scalar Quantization (FSQ, arXiv 2309.15505): each of `L` dimensions is bounded and
//! rounded to one of `levels[i]` values. The codebook is the implicit grid of all level
//! combinations (`K = Π levels`), never materialised, and there is no auxiliary loss: every
//! code is reachable by construction.
//!
//! Mirrors `vector_quantize_pytorch.FSQ` (one codebook, no noise dropout, no rotation),
//! including its optional `preserve_symmetry` bound and the in/out projections used when the
//! model's dimension differs from `L`.

use burn::config::Config;
use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{backend::Backend, Int, Tensor, TensorData};

use rand::{rngs::StdRng, SeedableRng};

use crate::error::QuantError;
use crate::estimator::GradientEstimator;
use crate::layout::Layout;
use crate::projection::{project, projections};
use crate::quant_loss::QuantLoss;
use crate::quantizer::Quantizer;
use crate::quantizer_output::QuantizerOutput;

/// Configuration of [`Fsq`].
#[derive(Config, Debug)]
pub struct FsqConfig {
    /// Levels per quantized dimension, e.g. `[8, 8, 8, 5, 5, 5]` for 64,000 codes.
    pub levels: Vec<usize>,
    /// The model's feature dimension; when it differs from `levels.len()`, linear projections
    /// map in and out of the quantized space.
    #[config(default = "None")]
    pub dim: Option<usize>,
    /// Give the projections a bias.
    #[config(default = true)]
    pub projection_bias: bool,
    /// Seed of the projections.
    #[config(default = 0)]
    pub seed: u64,
    /// Use the symmetry-preserving bound (needed for levels of 2).
    #[config(default = false)]
    pub preserve_symmetry: bool,
}

impl FsqConfig {
    /// Builds the quantizer (projections initialised as PyTorch's `nn.Linear`, from `seed`).
    pub fn init<B: Backend>(&self, device: &B::Device) -> core::result::Result<Fsq<B>, QuantError> {
        let invalid = |msg: String| Err(QuantError::InvalidConfig(msg));
        if self.levels.is_empty() {
            return invalid("FSQ needs at least one level".into());
        }
        if self.levels.iter().any(|&l| l < 2) {
            return invalid(format!(
                "every FSQ level must be at least 2, got {:?}",
                self.levels
            ));
        }
        if !self.preserve_symmetry && self.levels.contains(&2) {
            return invalid(
                "levels of 2 need preserve_symmetry = true (as in vector-quantize-pytorch)".into(),
            );
        }
        let size = self
            .levels
            .iter()
            .try_fold(1usize, |acc, &l| acc.checked_mul(l))
            .filter(|&k| k <= i32::MAX as usize);
        let Some(_) = size else {
            return invalid(format!(
                "FSQ levels {:?} give more than 2^31 - 1 codes: indices must fit the 32-bit \
                 integers of the GPU backends",
                self.levels
            ));
        };
        let quantized_dim = self.levels.len();
        let dim = self.dim.unwrap_or(quantized_dim);
        if dim == 0 {
            return invalid("dim must be at least 1".into());
        }
        let (project_in, project_out) = projections(
            dim,
            quantized_dim,
            self.projection_bias,
            &mut StdRng::seed_from_u64(self.seed),
            device,
        );
        Ok(Fsq {
            project_in,
            project_out,
            levels: self.levels.clone(),
            preserve_symmetry: self.preserve_symmetry,
            dim,
        })
    }
}

/// The FSQ quantizer. Build it with [`FsqConfig::init`].
#[derive(Module, Debug)]
pub struct Fsq<B: Backend> {
    /// `dim → L` projection, when `dim ≠ L`.
    pub project_in: Option<Linear<B>>,
    /// `L → dim` projection, when `dim ≠ L`.
    pub project_out: Option<Linear<B>>,
    #[module(skip)]
    levels: Vec<usize>,
    preserve_symmetry: bool,
    dim: usize,
}

impl<B: Backend> Fsq<B> {
    /// Levels per quantized dimension.
    pub fn levels(&self) -> &[usize] {
        &self.levels
    }

    /// A `[1, L]` row of per-level constants.
    fn row(&self, f: impl Fn(usize) -> f32, device: &B::Device) -> Tensor<B, 2> {
        let values: Vec<f32> = self.levels.iter().map(|&l| f(l)).collect();
        Tensor::from_data(TensorData::new(values, [1, self.levels.len()]), device)
    }

    /// Mixed-radix place values `[1, L]`: index = Σ level_index · basis.
    fn basis(&self, device: &B::Device) -> Tensor<B, 2, Int> {
        let mut place = 1i64;
        let basis: Vec<i64> = self
            .levels
            .iter()
            .map(|&l| {
                let value = place;
                place *= l as i64;
                value
            })
            .collect();
        Tensor::from_data(TensorData::new(basis, [1, self.levels.len()]), device)
    }

    /// Bounds and rounds `z` (`[N, L]`) to codes in `[-1, 1]`; straight-through rounding.
    fn quantize_codes(&self, z: Tensor<B, 2>) -> Tensor<B, 2> {
        let device = z.device();
        if self.preserve_symmetry {
            // (L − 1)(tanh z + 1)/2 + 1/2, floored, mapped back to [−1, 1].
            let bracket = (z.tanh() + 1.0) * self.row(|l| (l - 1) as f32 / 2.0, &device) + 0.5;
            let floored =
                GradientEstimator::StraightThrough.apply(bracket.clone(), bracket.floor());
            floored * self.row(|l| 2.0 / (l - 1) as f32, &device) - 1.0
        } else {
            const EPS: f32 = 1e-3;
            let half_l = |l: usize| (l - 1) as f32 * (1.0 + EPS) / 2.0;
            let offset = |l: usize| if l.is_multiple_of(2) { 0.5 } else { 0.0 };
            let shift = self.row(|l| (offset(l) / half_l(l)).atanh(), &device);
            let bounded =
                (z + shift).tanh() * self.row(half_l, &device) - self.row(offset, &device);
            let rounded =
                GradientEstimator::StraightThrough.apply(bounded.clone(), bounded.round());
            rounded / self.row(|l| (l / 2) as f32, &device)
        }
    }

    /// Codes in `[-1, 1]` → integer level indices `[N, L]` in `0..levels[i]`.
    fn level_indices(&self, codes: Tensor<B, 2>) -> Tensor<B, 2, Int> {
        let device = codes.device();
        let shifted = if self.preserve_symmetry {
            (codes + 1.0) * self.row(|l| (l - 1) as f32 / 2.0, &device)
        } else {
            let half_width = self.row(|l| (l / 2) as f32, &device);
            codes * half_width.clone() + half_width
        };
        shifted.round().int()
    }

    /// Level indices `[N, L]` → codes in `[-1, 1]`.
    fn codes_of_levels(&self, level_indices: Tensor<B, 2, Int>) -> Tensor<B, 2> {
        let device = level_indices.device();
        let level = level_indices.float();
        if self.preserve_symmetry {
            level * self.row(|l| 2.0 / (l - 1) as f32, &device) - 1.0
        } else {
            let half_width = self.row(|l| (l / 2) as f32, &device);
            (level - half_width.clone()) / half_width
        }
    }
}

impl<B: Backend> Quantizer<B> for Fsq<B> {
    fn codebook_size(&self) -> usize {
        self.levels.iter().product()
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn forward(&self, z: Tensor<B, 2>) -> crate::Result<QuantizerOutput<B, 2, 1>> {
        Layout::check(&z.dims(), self.dim)?;
        let device = z.device();
        let codes = self.quantize_codes(project(&self.project_in, z));
        let indices = (self.level_indices(codes.clone().detach()) * self.basis(&device))
            .sum_dim(1)
            .squeeze_dim(1);
        let zero = Tensor::zeros([1], &device);
        Ok(QuantizerOutput {
            quantized: project(&self.project_out, codes),
            indices,
            loss: QuantLoss::without_entropy(zero.clone(), zero),
        })
    }

    fn decode_indices(&self, indices: Tensor<B, 1, Int>) -> crate::Result<Tensor<B, 2>> {
        crate::quantizer::check_indices(&indices, self.codebook_size())?;
        let device = indices.device();
        let levels: Vec<i64> = self.levels.iter().map(|&l| l as i64).collect();
        let levels = Tensor::<B, 2, Int>::from_data(
            TensorData::new(levels, [1, self.levels.len()]),
            &device,
        );
        let level_indices = (indices.unsqueeze_dim::<2>(1) / self.basis(&device)).remainder(levels);
        Ok(project(
            &self.project_out,
            self.codes_of_levels(level_indices),
        ))
    }
}
