//! Gradient estimators: how the gradient crosses the non-differentiable code selection.

use burn::config::Config;
use burn::tensor::{backend::Backend, Tensor};

/// How gradients pass from the quantized output back to the encoder.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum GradientEstimator {
    /// Copy the gradient unchanged (VQ-VAE's straight-through estimator; the reference's).
    StraightThrough,
    /// The rotation trick (Fifty et al., arXiv 2410.06424): the output is `z` rotated and
    /// rescaled onto its code, with rotation and scale treated as constants, so the gradient
    /// carries the angle and magnitude between `z` and its code. As
    /// `vector_quantize_pytorch.rotate_to`.
    Rotation,
}

/// Guards the divisions by norms, as vector-quantize-pytorch's `safe_div` and `l2norm`.
const EPS: f32 = 1e-6;

impl GradientEstimator {
    /// The quantized output: forward value exactly `z_q`, gradient with respect to `z` as the
    /// estimator says. No gradient flows into `z_q` here (the codebook learns from the loss).
    pub fn apply<B: Backend>(self, z: Tensor<B, 2>, z_q: Tensor<B, 2>) -> Tensor<B, 2> {
        let z_q = z_q.detach();
        let surrogate = match self {
            Self::StraightThrough => z,
            Self::Rotation => rotate_onto(z, z_q.clone()),
        };
        // The surrogate's value is replaced by z_q exactly (x − sg(x) is exactly zero), unlike
        // the reference's z + sg(z_q − z), which is z_q only up to rounding.
        z_q + (surrogate.clone() - surrogate.detach())
    }
}

/// `λ·R·z`: `R` the rotation taking `z/‖z‖` to `q/‖q‖` (through their bisector `w`),
/// `λ = ‖q‖/‖z‖`; `R` and `λ` are constants for autodiff.
fn rotate_onto<B: Backend>(z: Tensor<B, 2>, q: Tensor<B, 2>) -> Tensor<B, 2> {
    let norm = |t: Tensor<B, 2>| t.square().sum_dim(1).sqrt();
    let z_norm = norm(z.clone().detach()).clamp_min(EPS);
    let q_norm = norm(q.clone());
    let u = z.clone().detach() / z_norm.clone();
    let q_hat = q / q_norm.clone().clamp_min(EPS);
    let bisector = u.clone() + q_hat.clone();
    let w = bisector.clone() / norm(bisector).clamp_min(EPS);
    let along_w = (z.clone() * w.clone()).sum_dim(1);
    let along_u = (z.clone() * u).sum_dim(1);
    let rotated = z - w * along_w.mul_scalar(2.0) + q_hat * along_u.mul_scalar(2.0);
    rotated * (q_norm / z_norm)
}
