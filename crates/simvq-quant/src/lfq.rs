//! Lookup-free quantization (LFQ, MAGVIT-v2, arXiv 2310.05737) and its spherical variant
//! (BSQ, arXiv 2406.07548): each of `log2 K` dimensions is quantized to its sign, so the code
//! of a token is its bit pattern and no codebook is searched or stored.
//!
//! An entropy penalty keeps the codes used: low entropy per token (confident bits), high
//! entropy of the average code distribution (diverse codes). As `vector_quantize_pytorch.LFQ`
//! (one codebook, no masks), it can be computed exactly over all `K` codes; for large `K` it
//! is computed per bit instead (see [`LfqConfig::exact_entropy_max_codes`]), which never
//! builds a `K`-sized tensor.

use burn::config::Config;
use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::activation::{sigmoid, softmax};
use burn::tensor::{backend::Backend, Int, Tensor, TensorData};

use crate::codebook::mse;
use rand::{rngs::StdRng, SeedableRng};

use crate::error::QuantError;
use crate::estimator::GradientEstimator;
use crate::layout::Layout;
use crate::projection::{l2_normalize, project, projections};
use crate::quant_loss::QuantLoss;
use crate::quantizer::Quantizer;
use crate::quantizer_output::QuantizerOutput;

/// Probabilities are clamped to this before taking logs, as vector-quantize-pytorch does.
const LOG_EPS: f32 = 1e-5;

/// Configuration of [`Lfq`]. Defaults are vector-quantize-pytorch's.
#[derive(Config, Debug)]
pub struct LfqConfig {
    /// Number of codes `K`, a power of two: `log2 K` bits per token.
    pub codebook_size: usize,
    /// The model's feature dimension; projections map to and from `log2 K` when it differs.
    pub dim: Option<usize>,
    /// Weight of the entropy penalty.
    #[config(default = 0.1)]
    pub entropy_loss_weight: f64,
    /// Weight of the commitment term `mean((z − sg(z_q))²)`.
    #[config(default = 0.0)]
    pub commitment_loss_weight: f64,
    /// Weight of the codebook (diversity) entropy inside the penalty.
    #[config(default = 1.0)]
    pub diversity_gamma: f64,
    /// Magnitude of a code's coordinates (±scale).
    #[config(default = 1.0)]
    pub codebook_scale: f64,
    /// Inverse temperature of the code distribution used by the entropy penalty.
    #[config(default = 100.0)]
    pub inv_temperature: f64,
    /// BSQ: project inputs and codes onto the sphere of radius `codebook_scale`.
    #[config(default = false)]
    pub spherical: bool,
    /// Up to this many codes the entropy is computed exactly over all codes (`[N, K]`
    /// probabilities, as vector-quantize-pytorch); above it, per bit: the per-token entropy is
    /// then the sum of the bits' entropies (exact up to the log clamp) and the batch entropy
    /// the sum of the bits' average entropies (an upper bound, as in BSQ).
    #[config(default = 4096)]
    pub exact_entropy_max_codes: usize,
    /// Give the projections a bias.
    #[config(default = true)]
    pub projection_bias: bool,
    /// Seed of the projections.
    #[config(default = 0)]
    pub seed: u64,
}

impl LfqConfig {
    /// Builds the quantizer.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<Lfq<B>, QuantError> {
        let k = self.codebook_size;
        if k < 2 || !k.is_power_of_two() || k > 1 << 30 {
            return Err(QuantError::InvalidConfig(format!(
                "LFQ codebook_size must be a power of two between 2 and 2^30, got {k}"
            )));
        }
        let bits = k.trailing_zeros() as usize;
        let dim = self.dim.unwrap_or(bits);
        if dim == 0 || !self.inv_temperature.is_finite() || self.codebook_scale <= 0.0 {
            return Err(QuantError::InvalidConfig(
                "LFQ needs dim >= 1, a finite inv_temperature and codebook_scale > 0".into(),
            ));
        }
        let (project_in, project_out) = projections(
            dim,
            bits,
            self.projection_bias,
            &mut StdRng::seed_from_u64(self.seed),
            device,
        );
        Ok(Lfq {
            project_in,
            project_out,
            bits,
            dim,
            entropy_loss_weight: self.entropy_loss_weight,
            commitment_loss_weight: self.commitment_loss_weight,
            diversity_gamma: self.diversity_gamma,
            codebook_scale: self.codebook_scale,
            inv_temperature: self.inv_temperature,
            spherical: self.spherical,
            exact_entropy: k <= self.exact_entropy_max_codes,
        })
    }
}

/// The LFQ / BSQ quantizer. Build it with [`LfqConfig::init`].
#[derive(Module, Debug)]
pub struct Lfq<B: Backend> {
    /// `dim → bits` projection, when `dim ≠ bits`.
    pub project_in: Option<Linear<B>>,
    /// `bits → dim` projection, when `dim ≠ bits`.
    pub project_out: Option<Linear<B>>,
    bits: usize,
    dim: usize,
    entropy_loss_weight: f64,
    commitment_loss_weight: f64,
    diversity_gamma: f64,
    codebook_scale: f64,
    inv_temperature: f64,
    spherical: bool,
    exact_entropy: bool,
}

impl<B: Backend> Lfq<B> {
    /// The entropy terms of a batch `x` (`[N, bits]`, after the spherical projection):
    /// (mean per-token entropy, entropy of the mean code distribution).
    pub fn entropies(&self, x: Tensor<B, 2>) -> (Tensor<B, 1>, Tensor<B, 1>) {
        if self.exact_entropy {
            self.exact_entropies(x)
        } else {
            self.factorized_entropies(x)
        }
    }

    /// The magnitude of one coordinate of a code (±this).
    fn code_value(&self) -> f64 {
        if self.spherical {
            self.codebook_scale / (self.bits as f64).sqrt()
        } else {
            self.codebook_scale
        }
    }

    /// `[1, bits]` place values, most significant bit first (vector-quantize-pytorch's order).
    fn place_values(&self, device: &B::Device) -> Tensor<B, 2, Int> {
        let places: Vec<i64> = (0..self.bits).rev().map(|b| 1i64 << b).collect();
        Tensor::from_data(TensorData::new(places, [1, self.bits]), device)
    }

    /// Codes `[N, bits]` of indices `[N]`.
    fn codes_of(&self, indices: Tensor<B, 1, Int>) -> Tensor<B, 2> {
        let device = indices.device();
        let bits = (indices.unsqueeze_dim::<2>(1) / self.place_values(&device)).remainder_scalar(2);
        let value = self.code_value();
        bits.float().mul_scalar(2.0 * value).sub_scalar(value)
    }

    fn exact_entropies(&self, x: Tensor<B, 2>) -> (Tensor<B, 1>, Tensor<B, 1>) {
        let k = 1usize << self.bits;
        let device = x.device();
        let all = Tensor::<B, 1, Int>::arange(0..k as i64, &device);
        let codebook = self.codes_of(all);
        // −distance · T with distance = −2 x·c.
        let logits = x
            .matmul(codebook.transpose())
            .mul_scalar(2.0 * self.inv_temperature);
        let prob = softmax(logits, 1);
        let per_sample = entropy(prob.clone()).mean();
        let codebook_entropy = entropy(prob.mean_dim(0)).mean();
        (per_sample, codebook_entropy)
    }

    fn factorized_entropies(&self, x: Tensor<B, 2>) -> (Tensor<B, 1>, Tensor<B, 1>) {
        // P(bit = 1) = softmax over {+v, −v} of 2·x·c·T = sigmoid(4·v·T·x).
        let p = sigmoid(x.mul_scalar(4.0 * self.code_value() * self.inv_temperature));
        let per_sample = binary_entropy(p.clone()).sum_dim(1).mean();
        let codebook_entropy = binary_entropy(p.mean_dim(0)).sum();
        (per_sample, codebook_entropy)
    }
}

/// Σ −p·log(max(p, ε)) over the last axis, `[N, K]` → `[N]`.
fn entropy<B: Backend>(prob: Tensor<B, 2>) -> Tensor<B, 1> {
    let log = prob.clone().clamp_min(LOG_EPS).log();
    (prob.neg() * log).sum_dim(1).squeeze_dim(1)
}

/// Element-wise entropy of Bernoulli(p), with the same log clamp.
fn binary_entropy<B: Backend>(p: Tensor<B, 2>) -> Tensor<B, 2> {
    let q = p.clone().neg().add_scalar(1.0);
    let term = |t: Tensor<B, 2>| t.clone().neg() * t.clamp_min(LOG_EPS).log();
    term(p) + term(q)
}

impl<B: Backend> Quantizer<B> for Lfq<B> {
    fn codebook_size(&self) -> usize {
        1 << self.bits
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn forward(&self, z: Tensor<B, 2>) -> crate::Result<QuantizerOutput<B, 2, 1>> {
        Layout::check(&z.dims(), self.dim)?;
        let device = z.device();
        let mut x = project(&self.project_in, z);
        if self.spherical {
            x = l2_normalize(x).mul_scalar(self.codebook_scale);
        }
        let positive = x.clone().greater_elem(0.0);
        let value = self.code_value();
        let quantized = positive
            .clone()
            .float()
            .mul_scalar(2.0 * value)
            .sub_scalar(value);
        let indices = (positive.int() * self.place_values(&device))
            .sum_dim(1)
            .squeeze_dim(1);

        let (per_sample, codebook_entropy) = self.entropies(x.clone());
        let entropy = (per_sample - codebook_entropy.mul_scalar(self.diversity_gamma))
            .mul_scalar(self.entropy_loss_weight);
        let commitment =
            mse(x.clone(), quantized.clone().detach()).mul_scalar(self.commitment_loss_weight);
        let output = GradientEstimator::StraightThrough.apply(x, quantized);
        Ok(QuantizerOutput {
            quantized: project(&self.project_out, output),
            indices,
            loss: QuantLoss {
                commitment,
                codebook: Tensor::zeros([1], &device),
                entropy,
            },
        })
    }

    fn decode_indices(&self, indices: Tensor<B, 1, Int>) -> crate::Result<Tensor<B, 2>> {
        crate::quantizer::check_indices(&indices, self.codebook_size())?;
        Ok(project(&self.project_out, self.codes_of(indices)))
    }
}
