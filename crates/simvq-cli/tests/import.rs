//! Lightning checkpoints of the reference's image tokenizer and audio codec (tiny widths, with
//! the reference's module names; tools/golden_import_image.py and golden_import_audio.py) import,
//! and the imported models reproduce the PyTorch models' tokens exactly and their
//! reconstructions to 1e-4 — with the EMA weights by default, the raw ones on request — and
//! checkpoints that do not fit are refused naming each offending key once.

mod common;

use std::collections::HashMap;

use burn::backend::Flex;
use burn::module::ParamId;
use burn::tensor::{Tensor, TensorData};
use burn_store::TensorSnapshot;
use simvq_cli::{
    import_checkpoint, load_model, save_model, Checkpoint, ImportReport, ModelConfig, Tokenizer,
};
use simvq_quant::SimVqConfig;
use simvq_testkit::{assert_close, numbers, read_json, Tolerance, Value};

type B = Flex;

fn golden() -> Value {
    read_json(common::fixture("image_ckpt.json"))
}

/// The fixture's architecture.
fn tiny_config() -> ModelConfig {
    ModelConfig::Image(common::fixture_image_tokenizer())
}

/// The imported model's tokens equal the fixture's and its reconstruction is within 1e-4.
fn assert_matches(tokens: TensorData, reconstruction: TensorData, expected: &Value) {
    let tokens: Vec<i64> = tokens.convert::<i64>().to_vec().unwrap();
    let reconstruction: Vec<f64> = reconstruction.convert::<f64>().to_vec().unwrap();
    let want: Vec<i64> = numbers(&expected["indices"])
        .iter()
        .map(|&v| v as i64)
        .collect();
    assert_eq!(tokens, want, "tokens");
    let want = numbers(&expected["reconstruction"]);
    assert_eq!(reconstruction.len(), want.len());
    assert_close(
        &reconstruction,
        &want,
        Tolerance::absolute(1e-4),
        "reconstruction",
    );
}

/// A fixture's input as f32.
fn input(golden: &Value) -> Vec<f32> {
    numbers(&golden["input"])
        .iter()
        .map(|&v| v as f32)
        .collect()
}

fn assert_reproduces(tokenizer: &Tokenizer<B>, expected: &Value) {
    let Tokenizer::Image(model) = tokenizer else {
        panic!("an image tokenizer");
    };
    let x = Tensor::<B, 4>::from_data(
        TensorData::new(input(&golden()), [2, 3, 16, 16]),
        &Default::default(),
    );
    let tokens = model.encode(x).unwrap();
    let recon = model.decode_indices(tokens.clone()).unwrap();
    assert_matches(tokens.into_data(), recon.into_data(), expected);
}

#[test]
fn the_ema_weights_import_and_reproduce_the_reference() {
    let (tokenizer, report) = import_checkpoint::<B>(
        &Checkpoint::read(&common::fixture("image_ckpt.ckpt")).unwrap(),
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
        &Checkpoint::read(&common::fixture("image_ckpt.ckpt")).unwrap(),
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
    config.quantizer = SimVqConfig::new().with_codebook_size(32).with_dim(16);
    let err = import_checkpoint::<B>(
        &Checkpoint::read(&common::fixture("image_ckpt.ckpt")).unwrap(),
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

fn assert_audio_reproduces(tokenizer: &Tokenizer<B>, expected: &Value) {
    let Tokenizer::Audio(codec) = tokenizer else {
        panic!("an audio codec");
    };
    let wave = Tensor::<B, 2>::from_data(
        TensorData::new(
            input(&read_json(common::fixture("audio_ckpt.json"))),
            [2, 2500],
        ),
        &Default::default(),
    );
    let tokens = codec.encode(wave).unwrap();
    let recon = codec.decode_indices(tokens.clone()).unwrap();
    assert_matches(tokens.into_data(), recon.into_data(), expected);
}

/// `checkpoint` imported into the audio fixture's codec.
fn import_audio(
    checkpoint: &Checkpoint,
    ema: bool,
) -> simvq_cli::Result<(Tokenizer<B>, ImportReport)> {
    import_checkpoint::<B>(
        checkpoint,
        &ModelConfig::Audio(common::fixture_audio_codec()),
        ema,
        &Default::default(),
    )
}

#[test]
fn an_audio_checkpoint_imports_with_its_lstm_gates_and_pos_net() {
    let golden = read_json(common::fixture("audio_ckpt.json"));
    for (ema, set) in [(true, "ema"), (false, "raw")] {
        let checkpoint = Checkpoint::read(&common::fixture("audio_ckpt.ckpt")).unwrap();
        let (tokenizer, report) = import_audio(&checkpoint, ema).unwrap();
        assert_eq!(report.ema, ema);
        // 135 reference tensors (each LSTM matrix once, not once per gate) of the 274: the
        // other weight set, a discriminator key, the raw iSTFT window buffer.
        assert_eq!((report.loaded, report.ignored), (135, 139));
        assert_audio_reproduces(&tokenizer, &golden[set]);
    }
}

/// A state dict holding the codec alone (tools/golden_audio_step.py writes one): more of our
/// tensors than checkpoint keys, since one LSTM matrix fills four gates.
#[test]
fn a_codec_only_state_dict_imports_and_reports_the_buffer_it_ignores() {
    let checkpoint = Checkpoint::read(&common::fixture("audio_step_after.ckpt")).unwrap();
    let (_, report) = import_audio(&checkpoint, false).unwrap();
    assert_eq!(
        (report.loaded, report.ignored),
        (135, 1),
        "head.istft.window unused"
    );
}

/// The audio fixture with `edit` applied to its tensors, imported (EMA weights): the error.
fn audio_import_error(edit: impl FnOnce(&mut HashMap<String, TensorSnapshot>)) -> String {
    let mut checkpoint = Checkpoint::read(&common::fixture("audio_ckpt.ckpt")).unwrap();
    edit(checkpoint.tensors_mut());
    match import_audio(&checkpoint, true) {
        Ok(_) => panic!("the edited checkpoint imported"),
        Err(e) => e.to_string(),
    }
}

/// The first EMA key of the fixture's first LSTM layer's input matrix (`[4H, in]`).
const LSTM_KEY: &str = "model_ema.encodermodel13lstmweight_ih_l0";

#[test]
fn a_tensor_of_another_rank_is_named_not_a_panic() {
    let err = audio_import_error(|tensors| {
        let shape: Vec<usize> = tensors[LSTM_KEY].shape.to_vec();
        let flat = vec![0.0f32; shape.iter().product()];
        let reshaped = TensorData::new(flat, [shape[0], shape[1], 1]);
        let snapshot = TensorSnapshot::from_data(reshaped, vec![], vec![], ParamId::new());
        tensors.insert(LSTM_KEY.into(), snapshot);
    });
    assert_eq!(err.matches(LSTM_KEY).count(), 1, "{err}");
    assert!(
        err.contains("audio_ckpt.ckpt") && err.contains("1 of another shape"),
        "{err}"
    );
    assert!(err.contains("0 tensors missing"), "{err}");
}

#[test]
fn a_missing_lstm_matrix_is_named_once() {
    let err = audio_import_error(|tensors| {
        tensors.remove(LSTM_KEY).unwrap();
    });
    assert_eq!(err.matches(LSTM_KEY).count(), 1, "{err}");
    assert!(err.contains("1 tensors missing"), "{err}");
}

#[test]
fn a_checkpoint_without_ema_weights_suggests_the_raw_ones() {
    let err = audio_import_error(|tensors| tensors.retain(|k, _| !k.starts_with("model_ema.")));
    assert!(
        err.contains("--no-ema") && err.contains("audio_ckpt.ckpt"),
        "{err}"
    );
}
