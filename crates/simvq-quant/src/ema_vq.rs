//! VQ with an exponential-moving-average codebook (VQ-VAE-2 / vector-quantize-pytorch's
//! default): codes are not trained by gradient but set to the running mean of the vectors
//! assigned to them. Optional k-means initialisation from the first batch and replacement of
//! dead codes (running usage below a threshold) by vectors of the current batch, the two usual
//! remedies for collapse that SimVQ is compared with.
//!
//! The running statistics live in burn `RunningState`s, like BatchNorm's: they are updated in
//! the forward pass when the backend records gradients (training) and saved with the module.

use burn::config::Config;
use burn::module::{Module, RunningState};
use burn::tensor::IndexingUpdateOp;
use burn::tensor::{backend::Backend, Distribution, ElementConversion, Int, Tensor, TensorData};
use rand::{rngs::StdRng, SeedableRng};

use crate::codebook::{mse, Codebook, DEFAULT_SEARCH_BUDGET_BYTES};
use crate::error::QuantError;
use crate::estimator::GradientEstimator;
use crate::init::check_codebook_config;
use crate::layout::Layout;
use crate::quant_loss::{LossWeights, QuantLoss};
use crate::quantizer::{
    check_indices, codebook_encode, CodebookQuantizer, CodebookSettings, Quantizer,
};
use crate::quantizer_output::QuantizerOutput;

/// Configuration of [`EmaVq`].
#[derive(Config, Debug)]
pub struct EmaVqConfig {
    /// Number of codes `K` (named, as SimVQ's: `new().with_codebook_size(k).with_dim(d)`).
    #[config(default = 65_536)]
    pub codebook_size: usize,
    /// Code dimension `D`.
    #[config(default = 128)]
    pub dim: usize,
    /// Weight of the commitment term `mean((sg(z_q) − z)²)`.
    #[config(default = 0.25)]
    pub beta: f64,
    /// EMA decay of the code statistics (vector-quantize-pytorch: 0.8, VQ-VAE-2: 0.99).
    #[config(default = 0.99)]
    pub decay: f64,
    /// Laplace smoothing of the code counts.
    #[config(default = 1e-5)]
    pub eps: f64,
    /// Codes whose running count falls below this are replaced by batch vectors (0: never).
    #[config(default = 0.0)]
    pub dead_code_threshold: f64,
    /// Initialise the codes by k-means on the first training batch.
    #[config(default = false)]
    pub kmeans_init: bool,
    /// Lloyd iterations of that k-means.
    #[config(default = 10)]
    pub kmeans_iters: usize,
    /// Seed of the initial codes.
    #[config(default = 0)]
    pub seed: u64,
    /// Most bytes the nearest-code search may spend on distance scores at once.
    #[config(default = "DEFAULT_SEARCH_BUDGET_BYTES")]
    pub search_budget_bytes: usize,
    /// How gradients cross the code selection.
    #[config(default = "GradientEstimator::StraightThrough")]
    pub estimator: GradientEstimator,
}

impl EmaVqConfig {
    /// Builds the quantizer with codes `~ U(±√(6/D))` (PyTorch's `kaiming_uniform_`, as
    /// vector-quantize-pytorch), counts of one and sums equal to the codes.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<EmaVq<B>, QuantError> {
        check_codebook_config(self.codebook_size, self.dim, self.beta)?;
        if !(0.0..1.0).contains(&self.decay) || self.eps <= 0.0 || self.dead_code_threshold < 0.0 {
            return Err(QuantError::InvalidConfig(format!(
                "EMA VQ needs 0 <= decay < 1, eps > 0 and dead_code_threshold >= 0 (got {}, {}, {})",
                self.decay, self.eps, self.dead_code_threshold
            )));
        }
        let (k, d) = (self.codebook_size, self.dim);
        let mut rng = StdRng::seed_from_u64(self.seed);
        let bound = (6.0 / d as f64).sqrt();
        let data =
            TensorData::random::<f32, _, _>([k, d], Distribution::Uniform(-bound, bound), &mut rng);
        let codes = Tensor::<B, 2>::from_data(data, device);
        Ok(EmaVq {
            codebook: RunningState::new(codes.clone()),
            cluster_size: RunningState::new(Tensor::ones([k], device)),
            embed_sum: RunningState::new(codes),
            initialized: RunningState::new(Tensor::from_floats(
                [if self.kmeans_init { 0.0 } else { 1.0 }],
                device,
            )),
            beta: self.beta,
            decay: self.decay,
            eps: self.eps,
            dead_code_threshold: self.dead_code_threshold,
            kmeans_init: self.kmeans_init,
            kmeans_iters: self.kmeans_iters,
            search_budget_bytes: self.search_budget_bytes,
            estimator: self.estimator,
        })
    }
}

/// VQ with an EMA-updated codebook. Build it with [`EmaVqConfig::init`].
#[derive(Module, Debug)]
pub struct EmaVq<B: Backend> {
    /// The codes `[K, D]`.
    pub codebook: RunningState<Tensor<B, 2>>,
    /// Running count of every code `[K]`.
    pub cluster_size: RunningState<Tensor<B, 1>>,
    /// Running sum of the vectors assigned to every code `[K, D]`.
    pub embed_sum: RunningState<Tensor<B, 2>>,
    /// `[1]`: 0 until the k-means initialisation ran (1 without k-means).
    pub initialized: RunningState<Tensor<B, 1>>,
    beta: f64,
    decay: f64,
    eps: f64,
    dead_code_threshold: f64,
    kmeans_init: bool,
    kmeans_iters: usize,
    search_budget_bytes: usize,
    #[module(skip)]
    estimator: GradientEstimator,
}

impl<B: Backend> CodebookQuantizer<B> for EmaVq<B> {
    /// The current codebook (moved by the EMA updates, not by gradients).
    fn codebook(&self) -> Codebook<B> {
        Codebook::new(self.codebook.value_sync(), self.search_budget_bytes)
    }

    /// β on the commitment; no codebook term (the EMA moves the codes).
    fn settings(&self) -> CodebookSettings {
        CodebookSettings {
            loss_weights: LossWeights {
                commitment: self.beta,
                codebook: 0.0,
            },
            search_budget_bytes: self.search_budget_bytes,
            estimator: self.estimator,
        }
    }
}

impl<B: Backend> EmaVq<B> {
    /// Per-code counts and sums of `z` (`[N, D]`) for `indices`.
    fn assignment_stats(
        &self,
        z: Tensor<B, 2>,
        indices: Tensor<B, 1, Int>,
    ) -> (Tensor<B, 1>, Tensor<B, 2>) {
        let [n, d] = z.dims();
        let k = self.codebook_size();
        let device = z.device();
        let counts = Tensor::zeros([k], &device).select_assign(
            0,
            indices.clone(),
            Tensor::ones([n], &device),
            IndexingUpdateOp::Add,
        );
        let sums =
            Tensor::zeros([k, d], &device).select_assign(0, indices, z, IndexingUpdateOp::Add);
        (counts, sums)
    }

    /// `K` rows of `z` drawn uniformly with replacement (backend generator).
    fn sample_rows(z: &Tensor<B, 2>, count: usize) -> Tensor<B, 2> {
        let n = z.dims()[0];
        let rows =
            Tensor::<B, 1>::random([count], Distribution::Uniform(0.0, n as f64), &z.device())
                .int()
                .clamp(0, n as i64 - 1);
        z.clone().select(0, rows)
    }

    /// k-means (Lloyd) on `z`, as vector-quantize-pytorch's `kmeans`: empty clusters keep
    /// their previous centre. Returns centres and counts.
    fn kmeans(&self, z: Tensor<B, 2>) -> (Tensor<B, 2>, Tensor<B, 1>) {
        let k = self.codebook_size();
        let mut means = Self::sample_rows(&z, k);
        let mut counts = Tensor::zeros([k], &z.device());
        for _ in 0..self.kmeans_iters.max(1) {
            let indices = Codebook::new(means.clone(), self.search_budget_bytes).nearest(z.clone());
            let (bins, sums) = self.assignment_stats(z.clone(), indices);
            let empty = bins.clone().equal_elem(0.0);
            let divisor = bins.clone().mask_fill(empty.clone(), 1.0).unsqueeze_dim(1);
            means = means.mask_where(
                empty
                    .unsqueeze_dim::<2>(1)
                    .expand([k, z.dims()[1]])
                    .bool_not(),
                sums / divisor,
            );
            counts = bins;
        }
        (means, counts)
    }

    /// One EMA step with the batch `z` and its assignments, then dead-code replacement.
    fn update(&self, z: Tensor<B, 2>, indices: Tensor<B, 1, Int>) {
        let [_, d] = z.dims();
        let k = self.codebook_size();
        let (counts, sums) = self.assignment_stats(z.clone(), indices);
        let keep = self.decay;
        let cluster_size =
            self.cluster_size.value_sync().mul_scalar(keep) + counts.mul_scalar(1.0 - keep);
        let mut embed_sum =
            self.embed_sum.value_sync().mul_scalar(keep) + sums.mul_scalar(1.0 - keep);
        // Laplace smoothing keeps unused codes finite: (c + ε) / (Σc + Kε) · Σc.
        let total = cluster_size.clone().sum();
        let smoothed = (cluster_size.clone().add_scalar(self.eps)
            / total.clone().add_scalar(k as f64 * self.eps)
            * total)
            .unsqueeze_dim(1);
        let mut codes = embed_sum.clone() / smoothed;
        let mut cluster_size = cluster_size;
        if self.dead_code_threshold > 0.0 {
            let dead = cluster_size.clone().lower_elem(self.dead_code_threshold);
            let dead_rows = dead.clone().unsqueeze_dim::<2>(1).expand([k, d]);
            let samples = Self::sample_rows(&z, k);
            codes = codes.mask_where(dead_rows.clone(), samples.clone());
            embed_sum =
                embed_sum.mask_where(dead_rows, samples.mul_scalar(self.dead_code_threshold));
            cluster_size = cluster_size.mask_fill(dead, self.dead_code_threshold);
        }
        self.codebook.update(codes);
        self.cluster_size.update(cluster_size);
        self.embed_sum.update(embed_sum);
    }

    /// Runs the k-means initialisation on `z` if it is due (one scalar read-back per step,
    /// only when k-means is configured); returns whether it ran.
    fn maybe_kmeans_init(&self, z: &Tensor<B, 2>) -> bool {
        if !self.kmeans_init {
            return false;
        }
        let done: f32 = self.initialized.value_sync().into_scalar().elem();
        if done > 0.5 {
            return false;
        }
        let (means, counts) = self.kmeans(z.clone());
        self.codebook.update(means.clone());
        self.embed_sum
            .update(means * counts.clone().unsqueeze_dim(1));
        self.cluster_size.update(counts);
        self.initialized.update(Tensor::ones([1], &z.device()));
        true
    }
}

impl<B: Backend> Quantizer<B> for EmaVq<B> {
    fn codebook_size(&self) -> usize {
        self.codebook.value().dims()[0]
    }

    fn dim(&self) -> usize {
        self.codebook.value().dims()[1]
    }

    fn forward(&self, z: Tensor<B, 2>) -> crate::Result<QuantizerOutput<B, 2, 1>> {
        Layout::check(&z.dims(), self.dim())?;
        let training = B::ad_enabled(&z.device());
        if training {
            self.maybe_kmeans_init(&z.clone().detach());
        }
        let codebook = self.codebook();
        let indices = codebook.nearest(z.clone());
        let z_q = codebook.lookup(indices.clone()).detach();
        let commitment = mse(z_q.clone(), z.clone()).mul_scalar(self.beta);
        let loss = QuantLoss::without_entropy(commitment, Tensor::zeros([1], &z.device()));
        let quantized = self.estimator.apply(z.clone(), z_q);
        if training {
            self.update(z.detach(), indices.clone());
        }
        Ok(QuantizerOutput {
            quantized,
            indices,
            loss,
        })
    }

    fn decode_indices(&self, indices: Tensor<B, 1, Int>) -> crate::Result<Tensor<B, 2>> {
        check_indices(&indices, self.codebook_size())?;
        Ok(self.codebook().lookup(indices))
    }

    /// The search alone: no k-means initialisation, no EMA update.
    fn encode(&self, z: Tensor<B, 2>) -> crate::Result<Tensor<B, 1, Int>> {
        codebook_encode(self, z)
    }
}
