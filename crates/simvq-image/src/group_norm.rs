//! `GroupNorm` forward, the same function as burn's `GroupNorm::forward`, arranged for the
//! CPU backend's fast paths.
//!
//! burn 0.21's version ends in `x̂ · γ[1, C, 1, 1] + β[1, C, 1, 1]`. burn-flex has vectorised
//! kernels for a per-row scalar (`[B, C, HW] ∘ [B, C, 1]`) but not for a tensor broadcast over
//! the batch *and* the pixels, so those two ops, and their backward, walk the activations one
//! element at a time: in the image demo's profile that made GroupNorm the largest
//! non-convolution cost. Here γ/σ and β are first gathered per (image, channel) on tiny
//! `[B, C, 1]` tensors, so every op on the activations is a per-row scalar or row-contiguous op.
//! `(x − μ) · (γ/σ) + β` equals `(x − μ)/σ · γ + β` up to rounding (tests/group_norm.rs
//! checks it against burn's, forward and backward).

use burn::nn::GroupNorm;
use burn::tensor::{backend::Backend, Tensor};

/// `norm` applied to `x` of shape `[B, C, …]`.
pub fn group_norm_forward<B: Backend, const D: usize>(
    norm: &GroupNorm<B>,
    x: Tensor<B, D>,
) -> Tensor<B, D> {
    let shape = x.shape();
    let [batch, channels] = [shape[0], shape[1]];
    let groups = norm.num_groups;
    let pixels = shape.num_elements() / (batch * channels);
    let per_group = channels / groups;

    let grouped = x.reshape([batch, groups, per_group * pixels]);
    let centred = grouped.clone() - grouped.mean_dim(2);
    let variance = centred.clone().square().mean_dim(2);
    // [B, G, 1]: one 1/σ per image and group.
    let inv_std = variance.add_scalar(norm.epsilon).sqrt().recip();
    let centred = centred.reshape([batch, channels, pixels]);
    let normalised = match (&norm.gamma, &norm.beta) {
        (Some(gamma), Some(beta)) if norm.affine => {
            let scale = gamma.val().reshape([1, groups, per_group]) * inv_std;
            let shift = beta.val().reshape([1, channels, 1]).repeat_dim(0, batch);
            centred * scale.reshape([batch, channels, 1]) + shift
        }
        _ => {
            let scale = inv_std.repeat_dim(2, per_group);
            centred * scale.reshape([batch, channels, 1])
        }
    };
    normalised.reshape(shape)
}
