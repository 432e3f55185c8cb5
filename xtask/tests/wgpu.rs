//! The README's commands on burn-wgpu (any Vulkan device; Mesa's lavapipe runs them on a CPU):
//! `train image --backend wgpu --steps 10`, `train audio --backend wgpu`, and `eval` of each
//! run on wgpu scoring what `eval` on the CPU scores for the same checkpoint.
//! `cargo test -p xtask --features wgpu --test wgpu`.
#![cfg(feature = "wgpu")]

use std::path::Path;

use serde_json::Value;

mod common;
use common::{path, run_xtask as xtask};

/// `eval <kind>` of `run` on `backend`: its metrics.
fn eval(kind: &str, run: &Path, backend: &str, extra: &[&str]) -> Value {
    let json = run.with_extension(format!("{backend}.json"));
    let mut args = vec![
        "eval",
        kind,
        "--ckpt",
        path(run),
        "--json",
        path(&json),
        "--backend",
        backend,
        "--no-progress",
    ];
    args.extend_from_slice(extra);
    xtask(&args);
    let text = std::fs::read_to_string(&json).expect("eval wrote its JSON");
    serde_json::from_str::<Value>(&text).expect("valid JSON")["metrics"].clone()
}

/// `train <kind> --backend wgpu` with the demo's config, its end-of-training evaluation cut to
/// `examples` per split: lavapipe runs kernels at CPU speed, and the whole validation split
/// would take minutes.
fn train(kind: &str, run: &Path, steps: &str, examples: usize) {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../configs/demo_{kind}.toml"));
    let demo = std::fs::read_to_string(&demo).expect("the demo config");
    let short = demo.replace(
        "[schedule]\n",
        &format!("[schedule]\neval_examples = {examples}\n"),
    );
    assert_ne!(short, demo, "the demo config has a [schedule] table");
    let config = run.with_extension("toml");
    std::fs::write(&config, short).unwrap();
    xtask(&[
        "train",
        kind,
        "--config",
        path(&config),
        "--backend",
        "wgpu",
        "--steps",
        steps,
        "--out",
        path(run),
        "--no-progress",
    ]);
}

/// The metric `key` of both evaluations, which must agree to within `tolerance`.
fn assert_agree(wgpu: &Value, cpu: &Value, key: &str, tolerance: f64) {
    let (g, c) = (wgpu[key].as_f64(), cpu[key].as_f64());
    let (g, c) = (g.expect(key), c.expect(key));
    assert!(g.is_finite(), "{key} on wgpu: {g}");
    assert!((g - c).abs() <= tolerance, "{key}: wgpu {g} vs cpu {c}");
}

#[test]
fn train_and_eval_image_on_wgpu() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    train("image", &run, "10", 4);
    let limit = ["--limit", "8"];
    let wgpu = eval("image", &run, "wgpu", &limit);
    let cpu = eval("image", &run, "cpu", &limit);
    assert_eq!(wgpu["images"], cpu["images"]);
    assert_agree(&wgpu, &cpu, "psnr", 0.05);
    assert_agree(&wgpu, &cpu, "ssim", 1e-3);
    assert_agree(&wgpu, &cpu, "utilization", 0.02);
}

#[test]
fn train_and_eval_audio_on_wgpu() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    // One step: most of its time on lavapipe is burn's direct conv kernels (the
    // discriminators' input gradients), minutes per step at CPU speed.
    train("audio", &run, "1", 1);
    let limit = ["--limit", "2"];
    let wgpu = eval("audio", &run, "wgpu", &limit);
    let cpu = eval("audio", &run, "cpu", &limit);
    assert_eq!(wgpu["utterances"].as_u64(), Some(2));
    // Log-mel of a codec one step old (near-silent output, logs near their floor): 0.1%.
    assert_agree(&wgpu, &cpu, "mel_l1", 5e-3);
    assert_agree(&wgpu, &cpu, "stoi", 0.01);
    assert_agree(&wgpu, &cpu, "utilization", 0.02);
}
