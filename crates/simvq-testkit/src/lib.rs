//! What the golden tests of simvq-rs share: fixture JSON read with errors that name the file,
//! the closed-form inputs the `tools/` scripts generate on the Python side, and tolerance
//! assertions that report the worst element, where it is and how many are out of tolerance.
//!
//! A dev-dependency only; it panics (with a message) instead of returning errors, as a test
//! should.

mod closed_form_weights;

use std::f64::consts::TAU;
use std::path::Path;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData};
pub use serde_json::Value;

pub use closed_form_weights::ClosedFormWeights;

/// The JSON file at `path`.
pub fn read_json(path: impl AsRef<Path>) -> Value {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("fixture {} is not JSON: {e}", path.display()))
}

/// A JSON array of numbers.
pub fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array of numbers, found {value}"))
        .iter()
        .map(|v| {
            v.as_f64()
                .unwrap_or_else(|| panic!("expected a number, found {v}"))
        })
        .collect()
}

/// A JSON number.
pub fn number(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("expected a number, found {value}"))
}

/// `offset + scale · sin(0.37 · i + salt)` for `i` in `0..len`, computed in f64 (as the fixture
/// scripts' `closed_form`) and rounded to f32.
pub fn closed_form(len: usize, salt: f64, scale: f64, offset: f64) -> Vec<f32> {
    (0..len)
        .map(|i| (offset + scale * (0.37 * i as f64 + salt).sin()) as f32)
        .collect()
}

/// Value `i` of the fixture scripts' `broadband`: `scale · sin((0.37 i²) mod 2π + 0.1 i +
/// salt)` in f64, energy in every mel band (a pure tone leaves bands at the log floor, where
/// rounding decides the clamp).
pub fn broadband_at(i: usize, salt: f64, scale: f64) -> f64 {
    let i = i as f64;
    scale * ((0.37 * i * i) % TAU + 0.1 * i + salt).sin()
}

/// `broadband_at` for `i` in `0..len`, rounded to f32.
pub fn broadband(len: usize, salt: f64, scale: f64) -> Vec<f32> {
    (0..len)
        .map(|i| broadband_at(i, salt, scale) as f32)
        .collect()
}

/// A leaf tensor of `values` on the default device that records its gradient.
pub fn leaf<B: AutodiffBackend, const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
) -> Tensor<B, D> {
    Tensor::from_data(TensorData::new(values, shape), &Default::default()).require_grad()
}

/// A tensor's values as f64, row-major.
pub fn tensor_values<B: Backend, const D: usize>(t: &Tensor<B, D>) -> Vec<f64> {
    t.to_data()
        .convert::<f64>()
        .to_vec()
        .expect("a float tensor")
}

/// The gradient of `t` in `grads` as f64 (zeros when it received none, as PyTorch's `.grad`
/// of an unused leaf compares).
pub fn grad_values<B: AutodiffBackend, const D: usize>(
    t: &Tensor<B, D>,
    grads: &B::Gradients,
) -> Vec<f64> {
    t.grad(grads).map_or_else(
        || vec![0.0; t.shape().num_elements()],
        |g| tensor_values(&g),
    )
}

/// How far a value may be from its golden value: `|got − want| ≤ abs + rel · |want|`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// Absolute part.
    pub abs: f64,
    /// Relative part.
    pub rel: f64,
}

impl Tolerance {
    /// Relative to each value, with `rel` as the absolute floor near zero.
    pub fn relative(rel: f64) -> Self {
        Self { abs: rel, rel }
    }

    /// Absolute only.
    pub fn absolute(abs: f64) -> Self {
        Self { abs, rel: 0.0 }
    }

    fn allows(&self, got: f64, want: f64) -> bool {
        (got - want).abs() <= self.abs + self.rel * want.abs()
    }
}

/// Asserts `got` equals `want` element by element within `tolerance`; on failure names `what`,
/// the first and the worst offending element and how many are off.
pub fn assert_close(got: &[f64], want: &[f64], tolerance: Tolerance, what: &str) {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: {} values, expected {}",
        got.len(),
        want.len()
    );
    let off: Vec<usize> = (0..got.len())
        .filter(|&i| !tolerance.allows(got[i], want[i]) || got[i].is_nan() != want[i].is_nan())
        .collect();
    if let Some(&first) = off.first() {
        let worst = off
            .iter()
            .copied()
            .max_by(|&a, &b| {
                (got[a] - want[a])
                    .abs()
                    .total_cmp(&(got[b] - want[b]).abs())
            })
            .unwrap_or(first);
        panic!(
            "{what}: {} of {} values out of {tolerance:?}; first at {first}: {} vs {}; worst at \
             {worst}: {} vs {}",
            off.len(),
            got.len(),
            got[first],
            want[first],
            got[worst],
            want[worst]
        );
    }
}

/// [`assert_close`] for one value.
pub fn assert_close_scalar(got: f64, want: f64, tolerance: Tolerance, what: &str) {
    assert_close(&[got], &[want], tolerance, what);
}

/// Every float parameter of `module`, in visiting order (the order checkpoints and
/// initialisers follow), each flattened.
pub fn module_weights<B: Backend, M: Module<B>>(module: &M) -> Vec<Vec<f32>> {
    let mut flat = Flatten(Vec::new());
    module.visit(&mut flat);
    flat.0
}

struct Flatten(Vec<Vec<f32>>);

impl<B: Backend> ModuleVisitor<B> for Flatten {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let values = param.val().into_data().convert::<f32>();
        self.0.push(values.to_vec().expect("f32 values"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_within_tolerance_pass() {
        assert_close(
            &[1.0, 2.0],
            &[1.0 + 1e-7, 2.0],
            Tolerance::relative(1e-6),
            "ok",
        );
    }

    #[test]
    #[should_panic(expected = "1 of 2 values out of")]
    fn a_value_out_of_tolerance_fails_with_its_place() {
        assert_close(&[1.0, 2.1], &[1.0, 2.0], Tolerance::relative(1e-3), "off");
    }

    #[test]
    #[should_panic(expected = "out of")]
    fn nan_never_matches_a_number() {
        assert_close(&[f64::NAN], &[1.0], Tolerance::absolute(1.0), "nan");
    }

    #[test]
    fn closed_form_follows_its_formula() {
        let v = closed_form(3, 0.5, 2.0, 1.0);
        assert_eq!(v[2], (1.0 + 2.0 * (0.74f64 + 0.5).sin()) as f32);
    }
}
