//! Wide-band PESQ against the `pesq` Python package 0.0.4 (the reference's scorer;
//! tools/golden_pesq.py): the two demo utterances against closed-form degradations, as 16-bit
//! PCM on both sides.

use std::f64::consts::TAU;
use std::path::Path;

use simvq_metrics::{pesq_wb, pesq_wb_pcm, sinc_resample, MetricsError};
use simvq_testkit::{assert_close_scalar, number, read_json, Tolerance};

fn hiss(i: usize) -> f64 {
    let i = i as f64;
    (0.37 * i * i % TAU + 0.1 * i).sin()
}

fn to_pcm(v: f64) -> i16 {
    (v * 32_768.0 + 0.5).floor().clamp(-32_768.0, 32_767.0) as i16
}

/// tools/golden_pesq.py's DEGRADATIONS.
fn degrade(pcm: &[i16], how: &str) -> Vec<i16> {
    let x: Vec<f64> = pcm.iter().map(|&s| f64::from(s) / 32_768.0).collect();
    let at = |i: isize| {
        usize::try_from(i)
            .ok()
            .and_then(|i| x.get(i))
            .copied()
            .unwrap_or(0.0)
    };
    (0..x.len())
        .map(|i| {
            let v = match how {
                "hiss_0.02" => x[i] + 0.02 * hiss(i),
                "hiss_0.005" => x[i] + 0.005 * hiss(i),
                "smoothed" => {
                    let i = i as isize;
                    0.25 * at(i - 1) + 0.5 * at(i) + 0.25 * at(i + 1)
                }
                "half_delayed" => 0.5 * at(i as isize - 40),
                other => panic!("unknown degradation {other}"),
            };
            to_pcm(v)
        })
        .collect()
}

fn speech(name: &str) -> Vec<i16> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../simvq-data/tests/fixtures/arctic")
        .join(name);
    let mut reader = hound::WavReader::open(path).unwrap();
    assert_eq!(reader.spec().sample_rate, 16_000);
    reader.samples::<i16>().map(Result::unwrap).collect()
}

#[test]
fn wide_band_pesq_matches_the_python_package() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pesq_golden.json");
    let golden = read_json(path);
    for case in golden["cases"].as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        let how = case["degradation"].as_str().unwrap();
        let reference = speech(file);
        let got = pesq_wb_pcm(&reference, &degrade(&reference, how)).unwrap();
        assert_close_scalar(
            got,
            number(&case["pesq_wb"]),
            Tolerance::absolute(1e-3),
            &format!("{file} {how}"),
        );
    }
}

#[test]
fn other_rates_are_resampled_and_bad_pairs_are_errors() {
    let reference = speech("arctic_a0007.wav");
    let floats: Vec<f32> = reference.iter().map(|&s| f32::from(s) / 32_768.0).collect();
    // Identical signals at 24 kHz score near the top of the scale.
    let at_24k = sinc_resample(&floats, 16_000, 24_000).unwrap();
    let score = pesq_wb(&at_24k, &at_24k, 24_000).unwrap();
    assert!(score > 4.5, "{score}");
    let err = pesq_wb(&floats, &floats[1..], 16_000).unwrap_err();
    assert!(matches!(err, MetricsError::LengthMismatch { .. }));
    let err = pesq_wb(&floats[..1000], &floats[..1000], 16_000).unwrap_err();
    assert!(matches!(err, MetricsError::Pesq(_)), "{err}");
}
