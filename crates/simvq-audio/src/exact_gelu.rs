//! GELU with its exact gradient on every backend.
//!
//! burn 0.21's `activation::gelu` computes the exact (erf) GELU, but the default
//! `gelu_backward`, which the CubeCL backends (wgpu, CUDA) inherit, differentiates the tanh
//! approximation instead: up to 8.7e-4 off the exact derivative (near x = −2). burn-flex
//! overrides it with the exact one, so CPU and GPU training took different gradients, and only
//! the CPU took PyTorch's (`nn.GELU()`, the reference's ConvNeXt activation). Built from `erf`,
//! whose autodiff backward is exact on every backend, this one is the same everywhere, for a
//! few more elementwise operations.

use burn::tensor::{backend::Backend, Tensor};

/// `x · Φ(x) = x · (1 + erf(x / √2)) / 2`, differentiated exactly by autodiff.
pub fn exact_gelu<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    let cdf = x
        .clone()
        .div_scalar(core::f64::consts::SQRT_2)
        .erf()
        .add_scalar(1.0)
        .mul_scalar(0.5);
    x * cdf
}
