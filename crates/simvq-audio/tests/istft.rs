//! The iSTFT head against Vocos' `ISTFT(padding="same")` in torch (tools/golden_istft.py).

use std::path::Path;

use burn::backend::{Autodiff, Flex};
use burn::tensor::{Tensor, TensorData};
use serde_json::Value;
use simvq_audio::{Istft, IstftHead};

type B = Flex;

fn formula(len: usize, spec: &Value) -> Vec<f32> {
    let (amplitude, offset, salt) = (
        spec["amplitude"].as_f64().unwrap(),
        spec["offset"].as_f64().unwrap(),
        spec["salt"].as_f64().unwrap(),
    );
    (0..len)
        .map(|i| (offset + amplitude * (0.37 * i as f64 + salt).sin()) as f32)
        .collect()
}

#[test]
fn istft_head_matches_vocos_in_torch() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/istft_golden.json");
    let golden: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
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
        let head = IstftHead::<B>::new(8, n_fft, hop, &device).unwrap();
        let audio = head.synthesize(log_magnitude, phase);
        assert_eq!(audio.dims(), [2, hop * frames]);
        let got = audio.into_data().to_vec::<f32>().unwrap();
        let expected: Vec<f64> = case["audio"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let scale = expected.iter().fold(0f64, |m, v| m.max(v.abs()));
        let worst = got
            .iter()
            .zip(&expected)
            .map(|(g, e)| (f64::from(*g) - e).abs())
            .fold(0f64, f64::max);
        assert!(
            worst <= 1e-4 * scale,
            "n_fft {n_fft}: max error {worst} (scale {scale})"
        );
    }
}

#[test]
fn istft_is_differentiable() {
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
