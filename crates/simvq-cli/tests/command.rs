//! The `simvq` binary end to end: info, encode a folder, decode the tokens, reconstruct without
//! touching the inputs, and a wrong model refused with a non-zero exit naming the file.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use simvq_data::FileList;

fn simvq(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simvq"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("the simvq binary runs")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temporary path")
}

/// A tiny random image model (codebook seed `seed`) saved as `dir/name`.
fn model(dir: &Path, name: &str, seed: u64) -> String {
    let file = common::saved_model(&common::tiny_image_config(64, seed), dir, name);
    path(&file).to_string()
}

fn count(dir: &Path, extension: &str) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            let p = e.as_ref().unwrap().path();
            p.to_string_lossy().ends_with(extension)
        })
        .count()
}

#[test]
fn encode_decode_and_reconstruct_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let model = model(dir.path(), "m.safetensors", 1);
    let photos = common::few_photos(dir.path(), 5);
    let images = FileList::images(&photos).unwrap();
    let photos_count = images.len();

    let info = simvq(&["info", "--model", &model]);
    assert!(info.status.success());
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(
        text.contains("K = 64") && text.contains("fingerprint"),
        "{text}"
    );

    let tokens = dir.path().join("tokens");
    let out = simvq(&[
        "encode",
        "--model",
        &model,
        path(&photos),
        "--size",
        "32",
        "--out",
        path(&tokens),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&tokens, ".svqt"), photos_count);

    let decoded = dir.path().join("decoded");
    let out = simvq(&[
        "decode",
        "--model",
        &model,
        path(&tokens),
        "--out",
        path(&decoded),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&decoded, ".png"), photos_count);

    // Reconstructions written next to their inputs get `.recon`, never the input's name.
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let first = &images.files()[0];
    let copy = work.join(first.file_name().unwrap());
    std::fs::copy(first, &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let out = simvq(&[
        "reconstruct",
        "--model",
        &model,
        path(&copy),
        "--size",
        "32",
        "--out",
        path(&work),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        before,
        "the input is untouched"
    );
    assert_eq!(count(&work, ".recon.png"), 1);
}

#[test]
fn tokens_decoded_with_another_model_fail_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let first = model(dir.path(), "a.safetensors", 1);
    let second = model(dir.path(), "b.safetensors", 2);
    let tokens = dir.path().join("tokens");
    let photos = common::few_photos(dir.path(), 3);
    let out = simvq(&[
        "encode",
        "--model",
        &first,
        path(&photos),
        "--size",
        "32",
        "--out",
        path(&tokens),
    ]);
    assert!(out.status.success());
    let out = simvq(&[
        "decode",
        "--model",
        &second,
        path(&tokens),
        "--out",
        path(dir.path()),
    ]);
    assert!(!out.status.success());
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(
        errors.contains(".svqt") && errors.contains("decode with the model that encoded it"),
        "{errors}"
    );
}
