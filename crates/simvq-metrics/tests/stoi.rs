//! STOI against pystoi 0.4.1 (tools/golden_stoi.py): closed-form speech-like signals at 24, 16
//! and 10 kHz, clean against identical, noisy, very noisy and scaled-and-delayed versions; and
//! pystoi's 24 → 10 kHz resampler sample by sample.

use std::f64::consts::PI;

use simvq_metrics::{resample_octave, stoi, stoi_f64, MetricsError};
use simvq_testkit::{
    assert_close, assert_close_scalar, number, numbers, read_json, Tolerance, Value,
};

fn golden() -> Value {
    read_json(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stoi_golden.json"),
    )
}

/// tools/golden_stoi.py `clean(fs, seconds)`.
fn clean(fs: u32, seconds: f64) -> Vec<f64> {
    let fs_f = f64::from(fs);
    let n = (fs_f * seconds) as usize;
    let mut cumulative = 0.0;
    (0..n)
        .map(|i| {
            let t = i as f64 / fs_f;
            cumulative += 120.0 + 30.0 * (2.0 * PI * 0.7 * t).sin();
            let phase = 2.0 * PI * cumulative / fs_f;
            let voice = (1..12).fold(0.0, |acc, k| {
                let k = f64::from(k);
                acc + (k * phase).sin() / k
            });
            let envelope = (2.0 * PI * 2.5 * t).sin().max(0.0).powi(2);
            0.3 * voice * envelope
        })
        .collect()
}

fn hiss(i: usize) -> f64 {
    let i = i as f64;
    (0.37 * i * i % std::f64::consts::TAU + 0.1 * i).sin()
}

fn process(x: &[f64], how: &str) -> Vec<f64> {
    match how {
        "identical" => x.to_vec(),
        "noisy" => x
            .iter()
            .enumerate()
            .map(|(i, v)| v + 0.05 * hiss(i))
            .collect(),
        "very_noisy" => x
            .iter()
            .enumerate()
            .map(|(i, v)| v + 0.3 * hiss(i))
            .collect(),
        "scaled_delayed" => (0..x.len())
            .map(|i| if i < 7 { 0.0 } else { 0.5 * x[i - 7] })
            .collect(),
        other => panic!("unknown processing {other}"),
    }
}

#[test]
fn stoi_matches_pystoi() {
    let golden = golden();
    for case in golden["cases"].as_array().unwrap() {
        let fs = case["fs"].as_u64().unwrap() as u32;
        let how = case["processing"].as_str().unwrap();
        let x = clean(fs, 2.0);
        let got = stoi_f64(&x, &process(&x, how), fs);
        assert_close_scalar(
            got,
            number(&case["stoi"]),
            Tolerance::absolute(1e-6),
            &format!("{fs} Hz {how}"),
        );
    }
}

#[test]
fn the_24_to_10_khz_resampler_matches_pystoi() {
    let golden = golden();
    let want = numbers(&golden["resample_24k_to_10k"]["output"]);
    let got = resample_octave(&clean(24_000, 0.2), 10_000, 24_000);
    assert_close(
        &got,
        &want,
        Tolerance::absolute(1e-9),
        "24 → 10 kHz resampling",
    );
}

#[test]
fn mismatched_or_silent_inputs() {
    let err = stoi(&[0.0; 100], &[0.0; 99], 16_000).unwrap_err();
    assert!(matches!(
        err,
        MetricsError::LengthMismatch {
            clean: 100,
            processed: 99
        }
    ));
    assert!(err.to_string().contains("same length"));
    // Too short for one 30-frame segment: pystoi's 1e-5.
    let short: Vec<f32> = (0..2_000).map(|i| (i as f32 * 0.1).sin()).collect();
    assert_eq!(stoi(&short, &short, 10_000).unwrap(), 1e-5);
}
