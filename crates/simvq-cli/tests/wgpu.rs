//! `simvq encode` and `decode` on burn-wgpu (any Vulkan device; Mesa's lavapipe runs them on a
//! CPU) write what the CPU writes: the same token files, byte for byte, and PNGs within one
//! level. `cargo test -p simvq-cli --features wgpu --test wgpu`.
#![cfg(feature = "wgpu")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use simvq_data::decode_rgb;

fn simvq(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_simvq"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("the simvq binary runs");
    assert!(
        out.status.success(),
        "simvq {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temporary path")
}

/// The files of `dir`, sorted by name.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Encodes `photos` and decodes the tokens on `backend`, into `dir/<backend>/{tokens,decoded}`.
fn round_trip(model: &str, photos: &Path, dir: &Path, backend: &str) -> (PathBuf, PathBuf) {
    let (tokens, decoded) = (
        dir.join(backend).join("tokens"),
        dir.join(backend).join("decoded"),
    );
    let (t, d) = (path(&tokens), path(&decoded));
    let common = ["--model", model, "--backend", backend];
    simvq(
        &[
            &["encode"],
            &common[..],
            &[path(photos), "--size", "32", "--out", t],
        ]
        .concat(),
    );
    simvq(&[&["decode"], &common[..], &[t, "--out", d]].concat());
    (tokens, decoded)
}

#[test]
fn encode_and_decode_on_wgpu_equal_the_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::tiny_image_config(64, 1);
    let model = common::saved_model(&config, dir.path(), "m.safetensors");
    let model = path(&model);
    let photos = common::few_photos(dir.path(), 5);
    let (cpu_tokens, cpu_decoded) = round_trip(model, &photos, dir.path(), "cpu");
    let (gpu_tokens, gpu_decoded) = round_trip(model, &photos, dir.path(), "wgpu");

    let (cpu_tokens, gpu_tokens) = (files(&cpu_tokens), files(&gpu_tokens));
    assert_eq!(cpu_tokens.len(), 5);
    for (c, g) in cpu_tokens.iter().zip(&gpu_tokens) {
        assert_eq!(c.file_name(), g.file_name());
        let same = std::fs::read(c).unwrap() == std::fs::read(g).unwrap();
        assert!(same, "{} differs between cpu and wgpu", g.display());
    }
    for (c, g) in files(&cpu_decoded).iter().zip(&files(&gpu_decoded)) {
        let (c_img, g_img) = (decode_rgb(c).unwrap(), decode_rgb(g).unwrap());
        assert_eq!(c_img.dimensions(), g_img.dimensions());
        let worst = c_img
            .as_raw()
            .iter()
            .zip(g_img.as_raw())
            .map(|(a, b)| a.abs_diff(*b))
            .max();
        assert!(
            worst <= Some(1),
            "{}: levels differ by {worst:?}",
            g.display()
        );
    }
}
