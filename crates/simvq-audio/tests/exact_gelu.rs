//! `exact_gelu` and its gradient against the closed forms `x Φ(x)` and `Φ(x) + x φ(x)`, in f64
//! with libm's `erf`. The wgpu suite checks the same on wgpu
//! (crates/simvq-backend-tests/tests/wgpu.rs), where burn's own `gelu` gradient is the tanh
//! approximation's.

use burn::backend::{Autodiff, Flex};
use burn::tensor::{Tensor, TensorData};
use simvq_audio::exact_gelu;
use simvq_testkit::{assert_close, Tolerance};

type B = Autodiff<Flex>;

fn phi(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

fn cdf(x: f64) -> f64 {
    0.5 * (1.0 + libm::erf(x / std::f64::consts::SQRT_2))
}

#[test]
fn values_and_gradients_are_the_exact_ones() {
    let xs: Vec<f64> = (0..=600).map(|i| -6.0 + 0.02 * i as f64).collect();
    let device = Default::default();
    let x = Tensor::<B, 1>::from_data(
        TensorData::new(xs.iter().map(|&v| v as f32).collect::<Vec<_>>(), [xs.len()]),
        &device,
    )
    .require_grad();
    let y = exact_gelu(x.clone());
    let grads = y.clone().sum().backward();
    let got = |t: TensorData| t.convert::<f64>().to_vec::<f64>().unwrap();
    let rounded: Vec<f64> = xs.iter().map(|&v| f64::from(v as f32)).collect();
    let tolerance = Tolerance {
        abs: 1e-6,
        rel: 1e-6,
    };
    assert_close(
        &got(y.into_data()),
        &rounded.iter().map(|&v| v * cdf(v)).collect::<Vec<_>>(),
        tolerance,
        "gelu",
    );
    assert_close(
        &got(x.grad(&grads).unwrap().into_data()),
        &rounded
            .iter()
            .map(|&v| cdf(v) + v * phi(v))
            .collect::<Vec<_>>(),
        tolerance,
        "gelu gradient",
    );
}
