//! The commands of the README, end to end on the built-in demo data at a couple of steps:
//! `train` writes a run, `eval` scores it with the reference's protocol and writes its JSON.

use std::path::Path;

use serde_json::Value;

mod common;
use common::{path, run_xtask as xtask};

fn read_json(file: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

#[test]
fn train_then_eval_image_on_the_demo_photos() {
    let dir = tempfile::tempdir().unwrap();
    let (run, json, recons) = (
        dir.path().join("run"),
        dir.path().join("eval.json"),
        dir.path().join("recons"),
    );
    xtask(&[
        "train",
        "image",
        "--steps",
        "2",
        "--out",
        path(&run),
        "--no-progress",
    ]);
    let out = xtask(&[
        "eval",
        "image",
        "--ckpt",
        path(&run),
        "--json",
        path(&json),
        "--save-recons",
        path(&recons),
        "--no-progress",
    ]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("| utilization | rFID | LPIPS (alex / vgg) | PSNR | SSIM |"),
        "{table}"
    );
    let result = read_json(&json);
    let metrics = &result["metrics"];
    let images = metrics["images"].as_u64().unwrap() as usize;
    assert!(images > 0 && metrics["psnr"].as_f64().unwrap().is_finite());
    assert!(metrics["rfid"].is_null(), "no Inception weights were given");
    for sub in ["source", "recons"] {
        assert_eq!(std::fs::read_dir(recons.join(sub)).unwrap().count(), images);
    }
}

#[test]
fn train_then_eval_audio_on_the_demo_speech() {
    let utmos_fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/simvq-metrics/tests/fixtures/utmos_tiny.ckpt");
    let dir = tempfile::tempdir().unwrap();
    let (run, json) = (dir.path().join("run"), dir.path().join("eval.json"));
    xtask(&[
        "train",
        "audio",
        "--steps",
        "2",
        "--out",
        path(&run),
        "--no-progress",
    ]);
    let out = xtask(&[
        "eval",
        "audio",
        "--ckpt",
        path(&run),
        "--json",
        path(&json),
        "--limit",
        "1",
        "--utmos",
        utmos_fixture.to_str().unwrap(),
        "--no-progress",
    ]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("| utilization | UTMOS | PESQ (wb) | STOI | V/UV F1 |"),
        "{table}"
    );
    let result = read_json(&json);
    let metrics = &result["metrics"];
    assert_eq!(metrics["utterances"].as_u64(), Some(1));
    assert!(metrics["stoi"].as_f64().unwrap().is_finite());
    // A tiny UTMOS with closed-form weights: a number, not a verdict on the audio.
    assert!(metrics["utmos"].as_f64().unwrap().is_finite(), "{metrics}");
    assert_eq!(result["not_computed"], serde_json::json!(["V/UV F1"]));
}
