//! `sinc_resample` against torchaudio 2.11's `functional.resample` (tools/golden_resample.py):
//! real speech 16 → 24 and 24 → 16 kHz, a chirp 24 → 16 kHz, tones 22.05 and 48 → 24 kHz, to
//! 2e-6 (torchaudio sums its polyphase convolution in f32); and wide-band PESQ of a 24 kHz pair
//! as the reference's evaluation scores it (torchaudio to 16 kHz, the `pesq` package).

use std::f64::consts::{PI, TAU};
use std::path::{Path, PathBuf};

use simvq_metrics::{pesq_wb, sinc_resample};
use simvq_testkit::{assert_close, number, numbers, read_json, Tolerance, Value};

/// torchaudio accumulates in f32; ours in f64.
const TOL: Tolerance = Tolerance {
    abs: 2e-6,
    rel: 0.0,
};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn golden() -> Value {
    read_json(fixture("tests/fixtures/resample_golden.json"))
}

/// The fixture's speech clip at 16 kHz, as `int16 / 32768`.
fn speech_16k(golden: &Value) -> Vec<f32> {
    let name = golden["clip"].as_str().unwrap();
    let audio =
        simvq_data::decode_audio(&fixture("../simvq-data/demo/speech/val").join(name)).unwrap();
    assert_eq!(audio.sample_rate, 16_000);
    audio.samples
}

/// The script's `chirp` and `tones`, computed in f64 and rounded to f32 as numpy does.
fn synthetic(name: &str, rate: u32, seconds: f64) -> Vec<f32> {
    let n = (f64::from(rate) * seconds) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            let v = match name {
                "chirp" => 0.5 * (2.0 * PI * (100.0 * t + 2000.0 * t * t)).sin(),
                "tones" => {
                    0.4 * (2.0 * PI * 440.0 * t).sin()
                        + 0.3 * (2.0 * PI * 9000.0 * t).sin()
                        + 0.2 * (2.0 * PI * 11_500.0 * t).sin()
                }
                other => panic!("unknown signal {other}"),
            };
            v as f32
        })
        .collect()
}

/// The input of one case: speech at its rate, or a synthetic signal.
fn input(golden: &Value, case: &Value) -> Vec<f32> {
    let (name, from) = (
        case["name"].as_str().unwrap(),
        case["from"].as_u64().unwrap(),
    );
    match (name, from) {
        ("speech", 16_000) => speech_16k(golden),
        ("speech", 24_000) => sinc_resample(&speech_16k(golden), 16_000, 24_000).unwrap(),
        ("chirp", rate) => synthetic("chirp", rate as u32, 1.5),
        ("tones", rate) => synthetic("tones", rate as u32, 1.0),
        other => panic!("unknown case {other:?}"),
    }
}

#[test]
fn resampling_matches_torchaudio() {
    let golden = golden();
    let (edge, stride) = (
        golden["edge"].as_u64().unwrap() as usize,
        golden["stride"].as_u64().unwrap() as usize,
    );
    for case in golden["cases"].as_array().unwrap() {
        let (from, to) = (case["from"].as_u64().unwrap(), case["to"].as_u64().unwrap());
        let what = format!("{} {from} → {to} Hz", case["name"]);
        let x = input(&golden, case);
        assert_eq!(
            x.len() as u64,
            case["input_len"].as_u64().unwrap(),
            "{what}"
        );
        let y: Vec<f64> = sinc_resample(&x, from as u32, to as u32)
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect();
        assert_eq!(
            y.len() as u64,
            case["len"].as_u64().unwrap(),
            "{what}: length"
        );
        assert_close(
            &y[..edge],
            &numbers(&case["head"]),
            TOL,
            &format!("{what}, head"),
        );
        assert_close(
            &y[y.len() - edge..],
            &numbers(&case["tail"]),
            TOL,
            &format!("{what}, tail"),
        );
        let strided: Vec<f64> = y.iter().step_by(stride).copied().collect();
        assert_close(
            &strided,
            &numbers(&case["strided"]),
            TOL,
            &format!("{what}, strided"),
        );
        let sum: f64 = y.iter().sum();
        let sum_sq: f64 = y.iter().map(|v| v * v).sum();
        let (want_sum, want_sq) = (number(&case["sum"]), number(&case["sum_sq"]));
        assert!(
            (sum - want_sum).abs() <= 1e-6 * y.len() as f64,
            "{what}: sum {sum} vs {want_sum}"
        );
        assert!(
            (sum_sq - want_sq).abs() <= 1e-5 * want_sq,
            "{what}: Σx² {sum_sq} vs {want_sq}"
        );
    }
}

/// The script's `degrade`: 3-tap smoothing (zero beyond the ends) plus `0.01 · hiss`.
fn degrade(x: &[f32]) -> Vec<f32> {
    let at = |i: isize| {
        usize::try_from(i)
            .ok()
            .and_then(|i| x.get(i))
            .map_or(0.0, |&v| f64::from(v))
    };
    (0..x.len())
        .map(|i| {
            let j = i as isize;
            let hiss = {
                let i = i as f64;
                (0.37 * i * i % TAU + 0.1 * i).sin()
            };
            (0.25 * at(j - 1) + 0.5 * at(j) + 0.25 * at(j + 1) + 0.01 * hiss) as f32
        })
        .collect()
}

#[test]
fn pesq_of_a_24_khz_pair_is_the_references() {
    let golden = golden();
    let reference = sinc_resample(&speech_16k(&golden), 16_000, 24_000).unwrap();
    let degraded = degrade(&reference);
    let got = pesq_wb(&reference, &degraded, 24_000).unwrap();
    let want = number(&golden["pesq_wb"]);
    // The crate scores 16-bit PCM at full scale; the package floats (measured: 1e-4 apart).
    assert!(
        (got - want).abs() <= 1e-3,
        "PESQ-WB {got} vs the reference's {want}"
    );
}
