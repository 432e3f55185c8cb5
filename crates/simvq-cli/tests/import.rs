//! A Lightning checkpoint of the reference's image tokenizer (tiny widths, written by
//! tools/golden_import_image.py from the spec with the reference's module names) imports, and
//! the imported model reproduces the PyTorch model's tokens exactly and its reconstructions to
//! 1e-4 — with the EMA weights by default, the raw ones on request.

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use serde_json::Value;
use simvq_cli::{import_checkpoint, load_model, save_model, ModelConfig, Tokenizer};
use simvq_image::{AutoencoderConfig, ImageTokenizerConfig};
use simvq_quant::SimVqConfig;

type B = Flex;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn golden() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("image_ckpt.json")).unwrap()).unwrap()
}

/// The fixture's architecture: ch 32, ch_mult [1, 1], one block per level, z 8, K 32.
fn tiny_config() -> ModelConfig {
    ModelConfig::Image(ImageTokenizerConfig::new(
        AutoencoderConfig::new()
            .with_channels(32)
            .with_channel_multipliers(vec![1, 1])
            .with_res_blocks(1)
            .with_z_channels(8),
        SimVqConfig::new(32, 8),
    ))
}

fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn assert_reproduces(tokenizer: &Tokenizer<B>, expected: &Value) {
    let Tokenizer::Image(model) = tokenizer else {
        panic!("an image tokenizer");
    };
    let device = Default::default();
    let input: Vec<f32> = numbers(&golden()["input"])
        .iter()
        .map(|&v| v as f32)
        .collect();
    let x = Tensor::<B, 4>::from_data(TensorData::new(input, [2, 3, 16, 16]), &device);
    let tokens = model.encode(x).unwrap();
    let indices: Vec<i64> = tokens
        .clone()
        .into_data()
        .convert::<i64>()
        .to_vec()
        .unwrap();
    let want: Vec<i64> = numbers(&expected["indices"])
        .iter()
        .map(|&v| v as i64)
        .collect();
    assert_eq!(indices, want, "tokens");
    let recon: Vec<f32> = model
        .decode_indices(tokens)
        .unwrap()
        .into_data()
        .to_vec()
        .unwrap();
    let worst = recon
        .iter()
        .zip(numbers(&expected["reconstruction"]))
        .map(|(g, e)| (f64::from(*g) - e).abs())
        .fold(0.0, f64::max);
    assert!(worst <= 1e-4, "reconstruction differs by {worst}");
}

#[test]
fn the_ema_weights_import_and_reproduce_the_reference() {
    let (tokenizer, report) = import_checkpoint::<B>(
        &fixture("image_ckpt.ckpt"),
        &tiny_config(),
        true,
        &Default::default(),
    )
    .unwrap();
    assert!(report.ema);
    assert_reproduces(&tokenizer, &golden()["ema"]);
    // And survive the export to our own format.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imported.safetensors");
    save_model(&tokenizer, &tiny_config(), "image_ckpt.ckpt", &path).unwrap();
    let (_, reloaded) = load_model::<B>(&path, &Default::default()).unwrap();
    assert_reproduces(&reloaded, &golden()["ema"]);
}

#[test]
fn the_raw_weights_import_on_request() {
    let (tokenizer, report) = import_checkpoint::<B>(
        &fixture("image_ckpt.ckpt"),
        &tiny_config(),
        false,
        &Default::default(),
    )
    .unwrap();
    assert!(!report.ema);
    assert_reproduces(&tokenizer, &golden()["raw"]);
}

#[test]
fn a_checkpoint_of_another_architecture_is_refused_by_name() {
    let ModelConfig::Image(mut config) = tiny_config() else {
        unreachable!()
    };
    config.autoencoder = config.autoencoder.with_z_channels(16);
    config.quantizer = SimVqConfig::new(32, 16);
    let err = import_checkpoint::<B>(
        &fixture("image_ckpt.ckpt"),
        &ModelConfig::Image(config),
        true,
        &Default::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("image_ckpt.ckpt") && err.contains("model_ema.encoderconv_outweight"),
        "{err}"
    );
}
