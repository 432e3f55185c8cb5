//! Parity with the reference: indices, quantized values, both loss terms and the gradients of
//! `W`, `b` and the input equal golden values from `tools/golden_simvq.py`, a numpy
//! transcription of the reference forward (fixture: `fixtures/simvq_golden.json`).

use burn::backend::{Autodiff, Flex};
use burn::module::Param;
use burn::tensor::{Tensor, TensorData};
use serde_json::Value;
use simvq_quant::{CodebookQuantizer, Quantizer, QuantizerOutput, SimVq, SimVqConfig};

type B = Autodiff<Flex>;

fn floats(case: &Value, key: &str) -> Vec<f32> {
    case[key]
        .as_array()
        .unwrap_or_else(|| panic!("fixture lacks {key}"))
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

fn usize_of(case: &Value, key: &str) -> usize {
    case[key].as_u64().unwrap() as usize
}

fn assert_close(name: &str, key: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{name}/{key}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{name}/{key}[{i}]: got {g}, want {w}"
        );
    }
}

/// The fixture's quantizer: its C, and W given in PyTorch's [out, in] layout.
fn quantizer_of(case: &Value) -> SimVq<B> {
    let device = Default::default();
    let (k, d) = (usize_of(case, "codebook_size"), usize_of(case, "dim"));
    let mut vq = SimVqConfig::new(k, d)
        .with_beta(case["beta"].as_f64().unwrap())
        .with_legacy(case["legacy"].as_bool().unwrap())
        .init::<B>(&device)
        .unwrap();
    let c = TensorData::new(floats(case, "frozen_codebook"), [k, d]);
    vq.frozen_codebook = Param::from_data(c, &device).set_require_grad(false);
    let w_out_in = Tensor::<B, 2>::from_data(
        TensorData::new(floats(case, "weight_out_in"), [d, d]),
        &device,
    );
    vq.projection.weight = Param::from_tensor(w_out_in.transpose());
    vq.projection.bias = Some(Param::from_data(
        TensorData::new(floats(case, "bias"), [d]),
        &device,
    ));
    vq
}

fn check_case<const R: usize, const I: usize>(
    case: &Value,
    forward: impl Fn(&SimVq<B>, Tensor<B, R>) -> simvq_quant::Result<QuantizerOutput<B, R, I>>,
) {
    let name = case["name"].as_str().unwrap();
    let device = Default::default();
    let shape: [usize; R] = case["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    let vq = quantizer_of(case);
    let tensor =
        |key: &str| Tensor::<B, R>::from_data(TensorData::new(floats(case, key), shape), &device);
    let z = tensor("z").require_grad();

    let codes: Vec<f32> = vq.codebook().codes().into_data().to_vec().unwrap();
    assert_close(
        name,
        "effective_codebook",
        &codes,
        &floats(case, "effective_codebook"),
        1e-6,
    );

    let out = forward(&vq, z.clone()).unwrap();
    let indices: Vec<i64> = out.indices.to_data().iter::<i64>().collect();
    let want: Vec<i64> = case["indices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(indices, want, "{name}: indices");

    let quantized: Vec<f32> = out.quantized.to_data().to_vec().unwrap();
    assert_close(
        name,
        "quantized",
        &quantized,
        &floats(case, "quantized"),
        1e-6,
    );
    let commitment = out.loss.commitment.to_data().to_vec::<f32>().unwrap()[0];
    let codebook = out.loss.codebook.to_data().to_vec::<f32>().unwrap()[0];
    assert_close(
        name,
        "commitment",
        &[commitment],
        &[case["commitment"].as_f64().unwrap() as f32],
        1e-5,
    );
    assert_close(
        name,
        "codebook_loss",
        &[codebook],
        &[case["codebook_loss"].as_f64().unwrap() as f32],
        1e-5,
    );

    let total = out.loss.total() + (out.quantized * tensor("upstream_grad")).sum();
    let grads = total.backward();
    let grad_z: Vec<f32> = z.grad(&grads).unwrap().to_data().to_vec().unwrap();
    assert_close(name, "grad_z", &grad_z, &floats(case, "grad_z"), 1e-5);
    let grad_w = vq
        .projection
        .weight
        .grad(&grads)
        .expect("W gets a gradient");
    let grad_w_out_in: Vec<f32> = grad_w.transpose().to_data().to_vec().unwrap();
    assert_close(
        name,
        "grad_weight_out_in",
        &grad_w_out_in,
        &floats(case, "grad_weight_out_in"),
        1e-5,
    );
    let grad_b = vq
        .projection
        .bias
        .as_ref()
        .unwrap()
        .grad(&grads)
        .expect("b gets a gradient");
    assert_close(
        name,
        "grad_bias",
        &grad_b.to_data().to_vec::<f32>().unwrap(),
        &floats(case, "grad_bias"),
        1e-5,
    );
    assert!(
        vq.frozen_codebook.grad(&grads).is_none(),
        "{name}: C must get no gradient"
    );
}

#[test]
fn matches_reference_golden_values() {
    let fixture: Value = serde_json::from_str(include_str!("fixtures/simvq_golden.json")).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        match case["shape"].as_array().unwrap().len() {
            4 => check_case::<4, 3>(case, |vq, z| vq.forward_2d(z)),
            3 => check_case::<3, 2>(case, |vq, z| vq.forward_1d(z)),
            2 => check_case::<2, 1>(case, |vq, z| vq.forward(z)),
            n => panic!("unexpected rank {n}"),
        }
    }
}
