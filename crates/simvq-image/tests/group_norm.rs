//! `group_norm_forward` is burn's `GroupNorm::forward` rearranged for speed: the same outputs
//! and the same gradients for the input, γ and β, with and without the affine part, for the
//! tokenizer's widths (one and several channels per group) and odd spatial sizes.

use burn::backend::{Autodiff, Flex};
use burn::module::Param;
use burn::nn::{GroupNorm, GroupNormConfig};
use burn::tensor::Tensor;
use simvq_image::group_norm_forward;
use simvq_testkit::{assert_close, closed_form, grad_values, leaf, tensor_values, Tolerance};

type B = Autodiff<Flex>;

/// A GroupNorm with non-trivial γ and β (a mix-up of the two would show).
fn norm(groups: usize, channels: usize, affine: bool) -> GroupNorm<B> {
    let mut norm = GroupNormConfig::new(groups, channels)
        .with_epsilon(1e-6)
        .with_affine(affine)
        .init::<B>(&Default::default());
    if affine {
        norm.gamma = Some(Param::from_tensor(leaf(
            closed_form(channels, 0.3, 0.5, 1.0),
            [channels],
        )));
        norm.beta = Some(Param::from_tensor(leaf(
            closed_form(channels, 1.1, 0.2, 0.0),
            [channels],
        )));
    }
    norm
}

/// Forward values and the gradients of `Σ w · y` (w varied, so every gradient term counts).
fn outputs(norm: &GroupNorm<B>, shape: [usize; 4], ours: bool) -> (Vec<f64>, Vec<Vec<f64>>) {
    let _autodiff = simvq_quant::autodiff_lock();
    let n = shape.iter().product();
    let x: Tensor<B, 4> = leaf(closed_form(n, 0.7, 2.0, 0.5), shape);
    let y = if ours {
        group_norm_forward(norm, x.clone())
    } else {
        norm.forward(x.clone())
    };
    let w: Tensor<B, 4> = leaf(closed_form(n, 2.3, 1.0, 0.1), shape);
    let grads = (y.clone() * w).sum().backward();
    let mut g = vec![grad_values(&x, &grads)];
    for p in [&norm.gamma, &norm.beta].into_iter().flatten() {
        g.push(grad_values(&p.val(), &grads));
    }
    (tensor_values(&y), g)
}

fn check(groups: usize, channels: usize, hw: [usize; 2], affine: bool) {
    let norm = norm(groups, channels, affine);
    let shape = [3, channels, hw[0], hw[1]];
    let (y_ours, g_ours) = outputs(&norm, shape, true);
    let (y_burn, g_burn) = outputs(&norm, shape, false);
    let what = format!("G {groups}, C {channels}, {hw:?}, affine {affine}");
    assert_close(
        &y_ours,
        &y_burn,
        Tolerance::relative(1e-5),
        &format!("{what}: output"),
    );
    assert_eq!(g_ours.len(), g_burn.len());
    for (i, (a, b)) in g_ours.iter().zip(&g_burn).enumerate() {
        assert_close(
            a,
            b,
            Tolerance::relative(1e-4),
            &format!("{what}: gradient {i}"),
        );
    }
}

#[test]
fn equals_burns_group_norm_with_affine() {
    check(32, 32, [5, 7], true);
    check(32, 64, [4, 4], true);
    check(4, 12, [3, 1], true);
}

#[test]
fn equals_burns_group_norm_without_affine() {
    check(4, 8, [6, 5], false);
}
