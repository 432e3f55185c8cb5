//! Parity with the reference: indices, quantized values, both loss terms and the gradients of
//! `W`, `b` and the input equal golden values from `tools/golden_simvq.py`, a numpy
//! transcription of the reference forward (fixture: `fixtures/simvq_golden.json`).

mod common;

use burn::module::Param;
use burn::tensor::{Tensor, TensorData};
use common::*;
use simvq_quant::{CodebookQuantizer, Quantizer, QuantizerOutput, SimVq, SimVqConfig};
use simvq_testkit::{number, read_json, Value};

/// The fixture's quantizer: its C, and W given in PyTorch's [out, in] layout.
fn quantizer_of(case: &Value) -> SimVq<B> {
    let device = Default::default();
    let (k, d) = (usize_of(case, "codebook_size"), usize_of(case, "dim"));
    let mut vq = SimVqConfig::new()
        .with_codebook_size(k)
        .with_dim(d)
        .with_beta(case["beta"].as_f64().unwrap())
        .with_legacy(case["legacy"].as_bool().unwrap())
        .init::<B>(&device)
        .unwrap();
    let c = TensorData::new(floats(case, "frozen_codebook"), [k, d]);
    vq.frozen_codebook = Param::from_data(c, &device).set_require_grad(false);
    vq.projection.weight = weight_out_in(floats(case, "weight_out_in"), d, d);
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
    let _autodiff = simvq_quant::autodiff_lock();
    let name = case["name"].as_str().unwrap();
    let shape = shape::<R>(case);
    let vq = quantizer_of(case);
    let z = tensor(case, "z", shape).require_grad();

    let codes = values(&vq.codebook().codes());
    assert_close(
        name,
        "effective_codebook",
        &codes,
        &floats(case, "effective_codebook"),
        1e-6,
    );

    let out = forward(&vq, z.clone()).unwrap();
    assert_output(name, case, &out.indices, &out.quantized, 1e-6);
    let scalar = |t: Tensor<B, 1>| -> f32 { t.into_scalar() };
    let expected = |key: &str| number(&case[key]) as f32;
    let commitment = scalar(out.loss.commitment.clone());
    assert_close(
        name,
        "commitment",
        &[commitment],
        &[expected("commitment")],
        1e-5,
    );
    let codebook = scalar(out.loss.codebook.clone());
    assert_close(
        name,
        "codebook_loss",
        &[codebook],
        &[expected("codebook_loss")],
        1e-5,
    );

    let total = out.loss.total() + (out.quantized * tensor(case, "upstream_grad", shape)).sum();
    let grads = total.backward();
    let grad_z = values(&z.grad(&grads).unwrap());
    assert_close(name, "grad_z", &grad_z, &floats(case, "grad_z"), 1e-5);
    let grad_w = vq
        .projection
        .weight
        .grad(&grads)
        .expect("W gets a gradient");
    let grad_w_out_in = values(&grad_w.transpose());
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
        &values(&grad_b),
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
    let fixture = read_json(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/simvq_golden.json"
    ));
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
