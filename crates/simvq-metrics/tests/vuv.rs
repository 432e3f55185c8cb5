//! V/UV F1 against torchcrepe 0.0.24 and librosa 0.11 (tools/golden_vuv.py): the CREPE network
//! on closed-form weights, the framing, the masked Viterbi decoding and periodicity, the
//! A-weighted silence test, and the whole chain with the `tiny` network.

mod common;

use std::path::Path;

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use common::{fixture, floats, formula_tensor, write_formula_tensors};
use simvq_metrics::{
    crepe_frames, decode_periodicity, frame_count, silent_frames, voiced_frames, vuv_f1, Crepe,
    CrepeCapacity, PITCH_BINS,
};
use simvq_testkit::{assert_close, numbers, read_json, Tolerance, Value};

type B = Flex;

fn golden() -> Value {
    read_json(fixture("vuv_golden.json"))
}

/// A CREPE network whose tensors are the fixture's formulas, loaded through a safetensors file
/// under torchcrepe's key names.
fn closed_form(capacity: CrepeCapacity, specs: &Value, dir: &Path) -> Crepe<B> {
    let path = dir.join("crepe.safetensors");
    write_formula_tensors(specs, &path);
    Crepe::load(capacity, &path, &Default::default()).expect("every tensor loads")
}

fn bools(value: &Value) -> Vec<bool> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_bool().unwrap())
        .collect()
}

#[test]
fn the_full_network_matches_torchcrepe() {
    let golden = golden();
    let case = &golden["network"];
    let dir = tempfile::tempdir().unwrap();
    let net = closed_form(CrepeCapacity::Full, &case["tensors"], dir.path());
    let (shape, frames) = formula_tensor(&case["frames"]);
    let frames = Tensor::<B, 2>::from_data(TensorData::new(frames, shape), &Default::default());
    let got: Vec<f64> = net
        .forward(frames)
        .into_data()
        .convert::<f64>()
        .to_vec()
        .unwrap();
    assert_eq!(got.len(), 2 * PITCH_BINS);
    assert_close(
        &got,
        &numbers(&case["outputs"]),
        Tolerance::absolute(1e-4),
        "sigmoid outputs",
    );
}

#[test]
fn frames_are_normalised_as_torchcrepe_does() {
    let golden = golden();
    let case = &golden["framing"];
    let signal = floats(case, "signal");
    let frames = crepe_frames(&signal);
    let n = frame_count(signal.len());
    assert_eq!([n, 1024], [14, 1024]);
    let wide = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
    let tolerance = Tolerance::absolute(1e-5);
    assert_close(
        &wide(&frames[..16]),
        &numbers(&case["first"]),
        tolerance,
        "first frame values",
    );
    assert_close(
        &wide(&frames[frames.len() - 16..]),
        &numbers(&case["last"]),
        tolerance,
        "last frame values",
    );
}

#[test]
fn viterbi_bins_and_periodicity_match_torchcrepe() {
    let golden = golden();
    let case = &golden["decode"];
    let outputs: Vec<Vec<f32>> = floats(case, "outputs")
        .chunks(PITCH_BINS)
        .map(<[f32]>::to_vec)
        .collect();
    let (bins, periodicity) = decode_periodicity(&outputs);
    let want_bins: Vec<usize> = numbers(&case["bins"]).iter().map(|&b| b as usize).collect();
    assert_eq!(bins, want_bins);
    let periodicity: Vec<f64> = periodicity.into_iter().map(f64::from).collect();
    assert_close(
        &periodicity,
        &numbers(&case["periodicity"]),
        Tolerance::absolute(1e-6),
        "periodicity",
    );
}

#[test]
fn silence_is_decided_as_the_reference_does() {
    let golden = golden();
    let case = &golden["silence"];
    let silent = silent_frames(&floats(case, "signal"));
    assert_eq!(silent, bools(&case["silent"]));
    assert!(silent.iter().any(|&s| s) && silent.iter().any(|&s| !s));
}

#[test]
fn the_whole_chain_and_its_f1_match_the_reference() {
    let golden = golden();
    let case = &golden["pipeline"];
    let dir = tempfile::tempdir().unwrap();
    let net = closed_form(CrepeCapacity::Tiny, &case["tensors"], dir.path());
    let device = Default::default();
    let a = voiced_frames(&net, &floats(case, "a"), &device).unwrap();
    let b = voiced_frames(&net, &floats(case, "b"), &device).unwrap();
    assert_eq!(a, bools(&case["voiced_a"]));
    assert_eq!(b, bools(&case["voiced_b"]));
    let f1 = vuv_f1(&a, &b).unwrap();
    assert!((f1 - case["f1"].as_f64().unwrap()).abs() < 1e-12);
    // No voiced frame in common: the reference's F1 is NaN and the utterance is skipped.
    assert_eq!(vuv_f1(&[true, false], &[false, true]), None);
    assert!(
        voiced_frames(&net, &[0.0; 1000], &device).is_err(),
        "shorter than a frame"
    );
}
