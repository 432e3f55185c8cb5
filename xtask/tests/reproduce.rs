//! `reproduce image` and `reproduce audio` end to end at a tiny size: every method trains and
//! is evaluated on the validation photos or speakers, the table, JSON and plot are written, a
//! second invocation reuses the finished runs, and the methods that cannot take a size (or a
//! modality) say so.

mod common;

use common::{path, run_xtask, xtask_command};
use serde_json::Value;

const TINY: [&str; 8] = [
    "--steps",
    "2",
    "--sizes",
    "16,64",
    "--baseline-size",
    "16",
    "--eval-images",
    "4",
];

/// Runs `xtask args`, which must fail; returns its stderr.
fn refused(args: &[&str]) -> String {
    let output = xtask_command(args).output().unwrap();
    assert!(!output.status.success(), "{args:?} succeeded");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn reproduce(out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    reproduce_modality("image", out, extra)
}

fn reproduce_modality(
    modality: &str,
    out: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec!["reproduce", modality, "--no-progress", "--out", path(out)];
    args.extend(TINY);
    args.extend(extra);
    run_xtask(&args)
}

#[test]
fn every_method_trains_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rep");
    reproduce(&out, &[]);

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let rows = report["results"].as_array().unwrap();
    let methods: Vec<(&str, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap(),
                r["codebook_size"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        methods,
        [
            ("vqgan", 16),
            ("vqgan-ema", 16),
            ("vqgan-fc", 16),
            ("fsq", 16),
            ("lfq", 16),
            ("vqgan-lc", 16),
            ("simvq-reference-init", 16),
            ("simvq-reference-init", 64),
            ("simvq", 16),
            ("simvq", 64),
        ]
    );
    for row in rows {
        let val = &row["validation"];
        assert_eq!(val["images"], 4, "{row}");
        let utilization = val["utilization"].as_f64().unwrap();
        assert!(utilization > 0.0 && utilization <= 1.0, "{row}");
        assert!(val["psnr"].as_f64().unwrap().is_finite(), "{row}");
        assert_eq!(row["curve"].as_array().unwrap().len(), 2, "{row}");
    }
    assert!(report["protocol"]
        .as_str()
        .unwrap()
        .contains("validation split"));
    let table = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert_eq!(
        table.matches("| VQGAN-LC style | 16 |").count(),
        1,
        "{table}"
    );
    let plot = image::open(out.join("curves.png")).unwrap();
    assert_eq!((plot.width(), plot.height()), (1280, 540));
    // The frozen codebook of real-image patches: 16 rows of 4×4×3 values.
    let features = std::fs::read(out.join("vqgan_lc_codebook-16.safetensors")).unwrap();
    let file = safetensors::SafeTensors::deserialize(&features).unwrap();
    assert_eq!(file.tensor("codebook").unwrap().shape(), [16, 48]);

    // A baseline's run is refused by `eval image`, which loads SimVQ tokenizers, by name.
    let stderr = refused(&["eval", "image", "--ckpt", path(&out.join("vqgan-16"))]);
    assert!(stderr.contains("trained a baseline quantizer"), "{stderr}");

    // A second invocation trains nothing again: every method's result is read back.
    let again = reproduce(&out, &[]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(stderr.matches("finished earlier").count(), 10, "{stderr}");
}

#[test]
fn sizes_a_method_cannot_take_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = refused(&[
        "reproduce",
        "image",
        "--no-progress",
        "--methods",
        "lfq",
        "--baseline-size",
        "100",
        "--steps",
        "1",
        "--out",
        path(&dir.path().join("rep")),
    ]);
    assert!(
        stderr.contains("LFQ needs a codebook size that is a power of two"),
        "{stderr}"
    );
}

#[test]
fn every_audio_method_trains_and_is_reported_on_unseen_speakers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rep");
    reproduce_modality("audio", &out, &[]);

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let rows = report["results"].as_array().unwrap();
    let methods: Vec<(&str, &str, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap(),
                r["label"].as_str().unwrap(),
                r["codebook_size"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        methods,
        [
            ("vqgan", "VQ (learned codebook)", 16),
            ("vqgan-ema", "VQ-EMA + k-means (WavTokenizer's)", 16),
            ("vqgan-fc", "VQ-FC (factorized, l2)", 16),
            ("fsq", "FSQ", 16),
            ("lfq", "LFQ", 16),
            ("simvq-reference-init", "SimVQ (reference init)", 16),
            ("simvq-reference-init", "SimVQ (reference init)", 64),
            ("simvq", "SimVQ (data init)", 16),
            ("simvq", "SimVQ (data init)", 64),
        ]
    );
    for row in rows {
        let val = &row["validation"];
        assert_eq!(val["utterances"], 4, "{row}");
        assert!(val["seconds"].as_f64().unwrap() > 1.0, "{row}");
        let utilization = val["utilization"].as_f64().unwrap();
        assert!(utilization > 0.0 && utilization <= 1.0, "{row}");
        let stoi = val["stoi"].as_f64().unwrap();
        assert!(stoi.is_finite() && stoi <= 1.0, "{row}");
        assert!(val["mel_l1"].as_f64().unwrap() > 0.0, "{row}");
        let curve = row["curve"].as_array().unwrap();
        assert_eq!(curve.len(), 2, "{row}");
        assert!(curve[0]["reconstruction"].as_f64().unwrap() > 0.0, "{row}");
    }
    let protocol = report["protocol"].as_str().unwrap();
    assert!(protocol.contains("speakers never trained on"), "{protocol}");
    assert_eq!(report["reconstruction_loss"], "log-mel L1 loss");
    let table = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(
        table.contains("| Method | K | val utilization | val STOI |"),
        "{table}"
    );
    assert_eq!(table.matches("| FSQ | 16 |").count(), 1, "{table}");
    let plot = image::open(out.join("curves.png")).unwrap();
    assert_eq!((plot.width(), plot.height()), (1280, 540));
    // Every run leaves what `train audio` leaves, for listening.
    assert!(out
        .join("fsq-16/samples")
        .read_dir()
        .unwrap()
        .next()
        .is_some());

    // A baseline's run is refused by `eval audio`, which loads SimVQ codecs, by name.
    let stderr = refused(&["eval", "audio", "--ckpt", path(&out.join("lfq-16"))]);
    assert!(stderr.contains("trained a baseline quantizer"), "{stderr}");

    let again = reproduce_modality("audio", &out, &[]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(stderr.matches("finished earlier").count(), 9, "{stderr}");
}

#[test]
fn the_image_only_method_is_refused_for_audio_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = refused(&[
        "reproduce",
        "audio",
        "--no-progress",
        "--methods",
        "vqgan-lc",
        "--steps",
        "1",
        "--out",
        path(&dir.path().join("rep")),
    ]);
    assert!(
        stderr.contains("compares image tokenizers only"),
        "{stderr}"
    );
}
