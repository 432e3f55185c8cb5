//! Helpers shared by the golden-value tests: fixture values as f32 tensors and integers, and
//! f32 comparisons through simvq-testkit's tolerance assertions.
#![allow(dead_code)] // each test binary uses its own subset

use burn::backend::{Autodiff, Flex};
use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use simvq_testkit::{numbers, Tolerance, Value};

/// The backend of the golden tests: CPU with autodiff, for the gradient checks.
pub type B = Autodiff<Flex>;

/// A float array of the fixture.
pub fn floats(case: &Value, key: &str) -> Vec<f32> {
    let value = case
        .get(key)
        .unwrap_or_else(|| panic!("fixture lacks {key}"));
    numbers(value).into_iter().map(|v| v as f32).collect()
}

/// An integer array of the fixture.
pub fn ints(case: &Value, key: &str) -> Vec<i64> {
    case[key]
        .as_array()
        .unwrap_or_else(|| panic!("fixture lacks {key}"))
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect()
}

/// A count of the fixture.
pub fn usize_of(case: &Value, key: &str) -> usize {
    case[key]
        .as_u64()
        .unwrap_or_else(|| panic!("fixture lacks {key}")) as usize
}

/// The case's `shape`, as rank `R`.
pub fn shape<const R: usize>(case: &Value) -> [usize; R] {
    let dims: Vec<usize> = case["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    dims.try_into().expect("fixture shape of another rank")
}

/// A fixture array as a tensor of `shape`.
pub fn tensor<const R: usize>(case: &Value, key: &str, shape: [usize; R]) -> Tensor<B, R> {
    Tensor::from_data(
        TensorData::new(floats(case, key), shape),
        &Default::default(),
    )
}

/// `|got − want| ≤ tol·(1 + |want|)` element-wise (`Tolerance::relative(tol)`), on f32 values.
pub fn assert_close(name: &str, key: &str, got: &[f32], want: &[f32], tol: f32) {
    let wide = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
    simvq_testkit::assert_close(
        &wide(got),
        &wide(want),
        Tolerance::relative(f64::from(tol)),
        &format!("{name}/{key}"),
    );
}

/// A tensor's values.
pub fn values<BK: Backend, const D: usize>(t: &Tensor<BK, D>) -> Vec<f32> {
    t.to_data().to_vec().unwrap()
}

/// An integer tensor's values.
pub fn index_values<const D: usize>(t: &Tensor<B, D, Int>) -> Vec<i64> {
    t.to_data().iter::<i64>().collect()
}

/// A weight given in PyTorch's `[out, in]` layout, as burn's `[in, out]` parameter.
pub fn weight_out_in(values: Vec<f32>, d_in: usize, d_out: usize) -> Param<Tensor<B, 2>> {
    let w = Tensor::<B, 2>::from_data(TensorData::new(values, [d_out, d_in]), &Default::default());
    Param::from_tensor(w.transpose())
}

/// A Linear from the fixture's PyTorch weight and bias.
pub fn linear(case: &Value, weight: &str, bias: &str, d_in: usize, d_out: usize) -> Linear<B> {
    Linear {
        weight: weight_out_in(floats(case, weight), d_in, d_out),
        bias: Some(Param::from_data(
            TensorData::new(floats(case, bias), [d_out]),
            &Default::default(),
        )),
    }
}

/// Checks a quantizer output against the fixture's `indices` (exactly) and `quantized`.
pub fn assert_output<const R: usize, const I: usize>(
    name: &str,
    case: &Value,
    indices: &Tensor<B, I, Int>,
    quantized: &Tensor<B, R>,
    tol: f32,
) {
    assert_eq!(
        index_values(indices),
        ints(case, "indices"),
        "{name}: indices"
    );
    assert_close(
        name,
        "quantized",
        &values(quantized),
        &floats(case, "quantized"),
        tol,
    );
}
