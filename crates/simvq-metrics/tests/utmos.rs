//! UTMOS against the reference's `metrics/UTMOS.py` head on transformers' `Wav2Vec2Model`
//! configured as fairseq's wav2vec 2.0 base (tools/golden_utmos.py): a tiny model with
//! closed-form weights (12 heads, as the real one), saved under the UTMOS checkpoint's keys
//! and loaded through the real loader; per-frame scores and the score on 1-s and 0.6-s signals.

use std::f64::consts::{PI, TAU};
use std::path::{Path, PathBuf};

use burn::backend::Flex;
use simvq_metrics::{MetricsError, Utmos};
use simvq_testkit::{assert_close, assert_close_scalar, number, numbers, read_json, Tolerance};

type B = Flex;

/// f32 through two convolution stacks, attention and an LSTM, against torch's f32.
const TOL: Tolerance = Tolerance {
    abs: 1e-5,
    rel: 1e-4,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The script's signal: a 220 Hz tone plus a broadband chirp at 16 kHz.
fn signal(seconds: f64, salt: f64) -> Vec<f32> {
    let n = (16_000.0 * seconds) as usize;
    (0..n)
        .map(|i| {
            let i = i as f64;
            let tone = 0.3 * (2.0 * PI * 220.0 * i / 16_000.0 + salt).sin();
            (tone + 0.1 * ((0.37 * i * i) % TAU).sin()) as f32
        })
        .collect()
}

#[test]
fn utmos_matches_the_reference_head_on_wav2vec2() {
    let golden = read_json(fixture("utmos_golden.json"));
    assert_eq!(
        golden["heads"].as_u64(),
        Some(12),
        "the real model's head count"
    );
    let device = Default::default();
    let utmos = Utmos::<B>::load(&fixture("utmos_tiny.ckpt"), &device).unwrap();
    for case in golden["cases"].as_array().unwrap() {
        let wave = signal(number(&case["seconds"]), number(&case["salt"]));
        let what = format!("{} s", case["seconds"]);
        let frames: Vec<f64> = utmos
            .frame_scores(&wave, &device)
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect();
        assert_close(
            &frames,
            &numbers(&case["frame_scores"]),
            TOL,
            &format!("{what}: frames"),
        );
        let score = utmos.score(&wave, &device).unwrap();
        assert_close_scalar(
            score,
            number(&case["score"]),
            TOL,
            &format!("{what}: UTMOS"),
        );
    }
}

#[test]
fn another_checkpoint_is_refused_by_key_and_short_audio_is_an_error() {
    let device = Default::default();
    let other = fixture("../../../simvq-cli/tests/fixtures/image_ckpt.ckpt");
    let err = Utmos::<B>::load(&other, &device).err().unwrap().to_string();
    assert!(
        err.contains("image_ckpt.ckpt") && err.contains("feature_extractors.0.ssl_model"),
        "{err}"
    );
    assert!(err.contains("UTMOS-demo"), "{err}");
    let utmos = Utmos::<B>::load(&fixture("utmos_tiny.ckpt"), &device).unwrap();
    let err = utmos.score(&[0.0; 300], &device).unwrap_err();
    assert!(
        matches!(err, MetricsError::TooShort { needed: 400, .. }),
        "{err}"
    );
}
