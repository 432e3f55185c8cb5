//! Seeded parameter initialisation on the host.
//!
//! Parameters are drawn from a seeded `StdRng` here rather than from the backend's generator,
//! so the same config seed gives the same codebook on every backend (CPU, wgpu, CUDA).

use burn::module::Param;
use burn::tensor::{backend::Backend, Distribution, Tensor, TensorData};
use rand::rngs::StdRng;

use crate::error::{QuantError, Result};

/// A trainable (or frozen, with `require_grad = false`) parameter drawn from `distribution`.
pub(crate) fn seeded_param<B: Backend, const D: usize>(
    shape: [usize; D],
    distribution: Distribution,
    rng: &mut StdRng,
    require_grad: bool,
    device: &B::Device,
) -> Param<Tensor<B, D>> {
    let data = TensorData::random::<f32, _, _>(shape, distribution, rng);
    Param::from_data(data, device).set_require_grad(require_grad)
}

/// Checks what every codebook quantizer needs: at least one code, a positive dimension,
/// and a finite non-negative `beta`.
pub(crate) fn check_codebook_config(codebook_size: usize, dim: usize, beta: f64) -> Result<()> {
    if codebook_size == 0 {
        return Err(QuantError::InvalidConfig(
            "codebook_size must be at least 1".into(),
        ));
    }
    if dim == 0 {
        return Err(QuantError::InvalidConfig("dim must be at least 1".into()));
    }
    if !beta.is_finite() || beta < 0.0 {
        return Err(QuantError::InvalidConfig(format!(
            "beta must be a finite number >= 0, got {beta}"
        )));
    }
    Ok(())
}
