//! The iSTFT head against Vocos' `ISTFT(padding="same")` in torch (tools/golden_istft.py).

use std::path::Path;

use burn::backend::{Autodiff, Flex};
use burn::tensor::{Tensor, TensorData};
use simvq_audio::{Istft, IstftHead};
use simvq_quant::SeededInit;
use simvq_testkit::{assert_close, closed_form, number, numbers, read_json, Tolerance, Value};

type B = Flex;

/// The script's closed-form input described by `spec`.
fn formula(len: usize, spec: &Value) -> Vec<f32> {
    closed_form(
        len,
        number(&spec["salt"]),
        number(&spec["amplitude"]),
        number(&spec["offset"]),
    )
}

#[test]
fn istft_head_matches_vocos_in_torch() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/istft_golden.json");
    let golden = read_json(path);
    let device = Default::default();
    for case in golden["cases"].as_array().unwrap() {
        let n_fft = case["n_fft"].as_u64().unwrap() as usize;
        let hop = case["hop"].as_u64().unwrap() as usize;
        let frames = case["frames"].as_u64().unwrap() as usize;
        let bins = n_fft / 2 + 1;
        let shape = [2, bins, frames];
        let len = 2 * bins * frames;
        let tensor = |v: Vec<f32>| Tensor::<B, 3>::from_data(TensorData::new(v, shape), &device);
        let log_magnitude = tensor(formula(len, &case["log_magnitude"]));
        let phase = tensor(formula(len, &case["phase"]));
        let head = IstftHead::<B>::new(8, n_fft, hop, &SeededInit::new(0, &device)).unwrap();
        let audio = head.synthesize(log_magnitude, phase);
        assert_eq!(audio.dims(), [2, hop * frames]);
        let got = audio.into_data().convert::<f64>().to_vec::<f64>().unwrap();
        let expected = numbers(&case["audio"]);
        let scale = expected.iter().fold(0f64, |m, v| m.max(v.abs()));
        assert_close(
            &got,
            &expected,
            Tolerance::absolute(1e-4 * scale),
            &format!("n_fft {n_fft} (scale {scale})"),
        );
    }
}

#[test]
fn istft_is_differentiable() {
    let _autodiff = simvq_quant::autodiff_lock();
    type AB = Autodiff<Flex>;
    let device = Default::default();
    let istft = Istft::<AB>::new(16, 4, &device).unwrap();
    let real = Tensor::<AB, 3>::ones([1, 9, 3], &device).require_grad();
    let imag = Tensor::<AB, 3>::zeros([1, 9, 3], &device).require_grad();
    let grads = istft.forward(real.clone(), imag.clone()).sum().backward();
    let g = real.grad(&grads).expect("gradient reaches the spectrum");
    assert!(g
        .into_data()
        .to_vec::<f32>()
        .unwrap()
        .iter()
        .any(|v| *v != 0.0));
    assert!(imag.grad(&grads).is_some());
}
