//! Data-dependent initialisation of SimVQ's projection: the analogue, for a learned linear
//! codebook, of k-means initialisation for a free one.
//!
//! Why: SimVQ as the reference initialises it draws `W` and `b` like any `nn.Linear`, so the
//! effective codes `E = C·Wᵀ + b` are spread around the origin with a width of about
//! `1/√3`. A freshly initialised encoder, on the other hand, may put all its latents in a
//! small ball far from the origin (the audio codec's SEANet gives frames that differ by a few
//! percent of their common mean): then one code is nearest to every latent, and spreading the
//! codes takes thousands of steps. Fitting `W` and `b` so that the codes have the *mean and
//! covariance of the latents* puts the codebook where the data is from step one, and since `C`
//! stays frozen and random, it is still SimVQ: only its starting point changes.

use burn::module::Param;
use burn::tensor::{backend::Backend, ElementConversion, Tensor, TensorData};

use crate::any::AnyQuantizer;
use crate::error::{QuantError, Result};
use crate::quantizer::Quantizer;
use crate::simvq::SimVq;

/// A quantizer a training loop can move onto the encoder's latents
/// (`schedule.codebook_init = "data"`), so a model generic over its quantizer can offer the
/// data-dependent init where the quantizer has one and a clear error where it has none.
pub trait LatentFit<B: Backend>: Sized {
    /// `self` moved a fraction `rate` of the way towards the fit of `latents` (`[N, D]`).
    fn move_towards_latents(self, latents: Tensor<B, 2>, rate: f64) -> Result<Self>;
}

impl<B: Backend> LatentFit<B> for SimVq<B> {
    fn move_towards_latents(self, latents: Tensor<B, 2>, rate: f64) -> Result<Self> {
        SimVq::move_towards_latents(self, latents, rate)
    }
}

impl<B: Backend> LatentFit<B> for AnyQuantizer<B> {
    fn move_towards_latents(self, latents: Tensor<B, 2>, rate: f64) -> Result<Self> {
        match self {
            Self::SimVq(q) => Ok(Self::SimVq(q.move_towards_latents(latents, rate)?)),
            other => Err(QuantError::InvalidConfig(format!(
                "the data-dependent codebook init fits SimVQ's projection; this {} quantizer \
                 has none. Set schedule.codebook_init = \"random\"",
                other.name()
            ))),
        }
    }
}

/// Ridge added to the latent covariance, relative to its mean variance, so that latents that
/// span fewer than `D` directions (few samples, dead channels) still give a Cholesky factor.
const RIDGE: f64 = 1e-3;

impl<B: Backend> SimVq<B> {
    /// Sets `W` and `b` so that the codes `E = C·Wᵀ + b` have the mean and covariance of
    /// `latents` (`[N, D]`, e.g. the encoder's outputs on the first training batches): `b` is
    /// the latents' mean and `W` maps `C`'s rows (whose covariance is `σ²·I`, measured on `C`
    /// itself) through the Cholesky factor `L` of their covariance (`LLᵀ = Σ`). `C` is not
    /// touched. Needs `N ≥ 2`; when `C` is wider than `D` the extra input columns of `W` are
    /// zero.
    pub fn fit_to_latents(mut self, latents: Tensor<B, 2>) -> Result<Self> {
        let [n, d] = latents.dims();
        let dim = self.dim();
        if d != dim {
            return Err(QuantError::DimMismatch {
                expected: dim,
                got: d,
                axis: 1,
                shape: vec![n, d],
            });
        }
        if n < 2 {
            return Err(QuantError::EmptyInput(vec![n, d]));
        }
        let rows = host_f64(latents);
        if let Some(i) = rows.iter().position(|v| !v.is_finite()) {
            return Err(QuantError::InvalidConfig(format!(
                "cannot fit the codebook to latents holding a non-finite value (flat index {i})"
            )));
        }
        let (mean, covariance) = mean_and_covariance(&rows, d);
        let factor = cholesky(&covariance, d);
        let sigma = self.frozen_codebook_std();
        let [width, _] = self.projection.weight.dims();
        // burn's Linear computes c·weight with weight [width, D]: weightᵀ·weight·σ² = LLᵀ
        // when weight's first D rows are Lᵀ/σ.
        let mut weight = vec![0.0f32; width * d];
        for i in 0..d.min(width) {
            for j in 0..d {
                weight[i * d + j] = (factor[j * d + i] / sigma) as f32;
            }
        }
        let mean: Vec<f32> = mean.into_iter().map(|m| m as f32).collect();
        let Some(bias) = self.projection.bias.take() else {
            return Err(QuantError::InvalidConfig(
                "fitting the codebook to data needs the projection's bias (bias = true)".into(),
            ));
        };
        self.projection.bias = Some(replace(bias, TensorData::new(mean, [d])));
        self.projection.weight =
            replace(self.projection.weight, TensorData::new(weight, [width, d]));
        Ok(self)
    }

    /// Moves `W` and `b` a fraction `rate` (in `(0, 1]`) of the way towards
    /// [`fit_to_latents`](Self::fit_to_latents)'s fit: `W ← (1 − rate)·W + rate·W_fit`, and
    /// the same for `b`. Training calls it every step while the encoder moves fast: the codes
    /// follow the latents without jumping with each batch's sampling noise, and the state is
    /// `W` and `b` themselves (saved with the model), so a resumed run continues exactly.
    pub fn move_towards_latents(self, latents: Tensor<B, 2>, rate: f64) -> Result<Self> {
        if !(rate > 0.0 && rate <= 1.0) {
            return Err(QuantError::InvalidConfig(format!(
                "the refit rate must be in (0, 1], got {rate}"
            )));
        }
        let (weight, bias) = (self.projection.weight.val(), self.projection.bias.clone());
        let mut fitted = self.fit_to_latents(latents)?;
        if rate < 1.0 {
            let blend = |old: Tensor<B, 2>, new: Tensor<B, 2>| old * (1.0 - rate) + new * rate;
            fitted.projection.weight = fitted
                .projection
                .weight
                .map(|new| blend(weight, new.detach()).detach().require_grad());
            if let (Some(old), Some(new)) = (bias, fitted.projection.bias.take()) {
                let old = old.val().unsqueeze_dim::<2>(0);
                fitted.projection.bias = Some(new.map(|new| {
                    blend(old, new.detach().unsqueeze_dim(0))
                        .squeeze_dim::<1>(0)
                        .detach()
                        .require_grad()
                }));
            }
        }
        Ok(fitted)
    }

    /// The standard deviation of `C`'s entries, measured (a file's codebook has its own).
    /// Reduced on the device: refits call this every step, and `C` can hold 262,144 codes.
    fn frozen_codebook_std(&self) -> f64 {
        let c = self.frozen_codebook.val().detach();
        let centred = c.clone() - c.mean().unsqueeze::<2>();
        let var: f32 = centred.powf_scalar(2.0).mean().into_scalar().elem();
        f64::from(var).sqrt().max(f64::MIN_POSITIVE)
    }
}

/// `param` with new values, keeping its id (optimizer state is keyed by it) and its
/// `require_grad`.
fn replace<B: Backend, const D: usize>(
    param: Param<Tensor<B, D>>,
    data: TensorData,
) -> Param<Tensor<B, D>> {
    param.map(|old| {
        let trainable = old.is_require_grad();
        Tensor::from_data(data, &old.device()).set_require_grad(trainable)
    })
}

fn host_f64<B: Backend>(t: Tensor<B, 2>) -> Vec<f64> {
    t.into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("f32 data")
        .into_iter()
        .map(f64::from)
        .collect()
}

/// Mean `[D]` and covariance `[D, D]` (row-major, divided by `N − 1`, ridge added) of `rows`.
fn mean_and_covariance(rows: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len() / d;
    let mut mean = vec![0.0; d];
    for row in rows.chunks_exact(d) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += v / n as f64;
        }
    }
    let mut cov = vec![0.0; d * d];
    for row in rows.chunks_exact(d) {
        for i in 0..d {
            let a = row[i] - mean[i];
            for j in 0..=i {
                cov[i * d + j] += a * (row[j] - mean[j]) / (n - 1) as f64;
            }
        }
    }
    let mean_variance = (0..d).map(|i| cov[i * d + i]).sum::<f64>() / d as f64;
    let ridge = RIDGE * mean_variance.max(f64::MIN_POSITIVE);
    for i in 0..d {
        cov[i * d + i] += ridge;
        for j in 0..i {
            cov[j * d + i] = cov[i * d + j];
        }
    }
    (mean, cov)
}

/// Lower-triangular `L` with `LLᵀ = a` (row-major `[D, D]`; `a` symmetric positive definite,
/// which the ridge guarantees). Written out because `D` is at most a few hundred and the crate
/// should not pull a linear-algebra library in for one factorisation.
fn cholesky(a: &[f64], d: usize) -> Vec<f64> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let dot: f64 = (0..j).map(|k| l[i * d + k] * l[j * d + k]).sum();
            if i == j {
                l[i * d + i] = (a[i * d + i] - dot).max(f64::MIN_POSITIVE).sqrt();
            } else {
                l[i * d + j] = (a[i * d + j] - dot) / l[j * d + j];
            }
        }
    }
    l
}
