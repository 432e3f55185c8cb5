//! Model files and token files round-trip, and damaged or mismatched files are refused with a
//! message that names them.

mod common;

use std::path::{Path, PathBuf};

use common::tiny_image_config;

use burn::backend::Flex;
use simvq_cli::{
    load_model, read_model_info, CliError, ImageSize, Model, ModelConfig, ModelKind, Source,
    TokenFile, TOKEN_FORMAT_VERSION,
};
use simvq_data::{demo_images_dir, demo_speech_dir, FileList};
use simvq_train::AudioTrainConfig;

type B = Flex;

fn loaded(path: &Path) -> Model<B> {
    let (info, tokenizer) = load_model::<B>(path, &Default::default()).unwrap();
    Model { info, tokenizer }
}

fn first_file(list: FileList) -> PathBuf {
    list.files()[0].clone()
}

#[test]
fn an_image_model_round_trips_and_its_tokens_decode() {
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_image_config(300, 1);
    let path = common::saved_model(&config, dir.path(), "image.safetensors");
    let info = read_model_info(&path).unwrap();
    assert_eq!(
        (info.config.kind(), info.config.codebook_size()),
        (ModelKind::Image, 300)
    );
    let model = loaded(&path);
    assert_eq!(model.info.fingerprint, info.fingerprint);

    let image = first_file(FileList::images(demo_images_dir()).unwrap());
    let device = Default::default();
    let tokens = model
        .encode_file(&image, ImageSize::Square(32), &device)
        .unwrap();
    assert_eq!(tokens.header.shape, vec![16, 16], "f = 2 at 32²");
    assert_eq!(tokens.header.bits, 9, "K = 300 needs 9 bits");
    // Deterministic: the reloaded model encodes the same way.
    let again = loaded(&path)
        .encode_file(&image, ImageSize::Square(32), &device)
        .unwrap();
    assert_eq!(tokens, again);

    let token_path = dir.path().join("image.svqt");
    tokens.write(&token_path).unwrap();
    let read = TokenFile::read(&token_path).unwrap();
    assert_eq!(read, tokens);
    assert_eq!(
        std::fs::metadata(&token_path).unwrap().len() as usize,
        14 + serde_json::to_vec(&tokens.header).unwrap().len() + (256 * 9usize).div_ceil(8)
    );
    model.check_tokens(&read, &token_path).unwrap();
    let png = dir.path().join("image.png");
    model.decode_to_file(&read, &png, &device).unwrap();
    let decoded = image::open(&png).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (32, 32));
}

#[test]
fn tokens_from_another_model_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let first = loaded(&common::saved_model(
        &tiny_image_config(300, 1),
        dir.path(),
        "a.safetensors",
    ));
    let second = loaded(&common::saved_model(
        &tiny_image_config(300, 2),
        dir.path(),
        "b.safetensors",
    ));
    assert_ne!(
        first.info.fingerprint, second.info.fingerprint,
        "another frozen codebook"
    );
    let image = first_file(FileList::images(demo_images_dir()).unwrap());
    let tokens = first
        .encode_file(&image, ImageSize::Native, &Default::default())
        .unwrap();
    let err = second
        .check_tokens(&tokens, Path::new("x.svqt"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("x.svqt") && err.contains(&first.info.fingerprint),
        "{err}"
    );
}

#[test]
fn damaged_token_files_are_refused() {
    let tokens = TokenFile::new(
        ModelKind::Audio,
        4_096,
        "0123456789abcdef",
        vec![5],
        Source::Audio {
            samples: 1_500,
            sample_rate: 24_000,
        },
        vec![0, 1, 4_095, 17, 2_048],
    );
    let bytes = tokens.to_bytes();
    let path = Path::new("t.svqt");
    assert_eq!(TokenFile::from_bytes(&bytes, path).unwrap(), tokens);
    let refused = |bytes: &[u8], needle: &str| {
        let err = TokenFile::from_bytes(bytes, path).unwrap_err();
        assert!(matches!(err, CliError::TokenFile { .. }));
        let msg = err.to_string();
        assert!(msg.contains("t.svqt") && msg.contains(needle), "{msg}");
    };
    refused(&bytes[..bytes.len() - 1], "truncated");
    refused(b"PNG\x89 not tokens at all", "magic");
    let mut newer = bytes.clone();
    newer[8..10].copy_from_slice(&(TOKEN_FORMAT_VERSION + 1).to_le_bytes());
    refused(&newer, "upgrade");
    // K = 4,096 uses all 12 bits, so flip the header's K to 3,000 and token 4,095 is out of range.
    let mut smaller_k = bytes.clone();
    let at = bytes.windows(4).position(|w| w == b"4096").unwrap();
    smaller_k[at..at + 4].copy_from_slice(b"3000");
    refused(&smaller_k, "out of range");
}

#[test]
fn edited_or_foreign_model_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::saved_model(&tiny_image_config(300, 1), dir.path(), "m.safetensors");
    // Flip one byte of the last tensor's data: the fingerprint no longer matches.
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x40;
    let edited = dir.path().join("edited.safetensors");
    std::fs::write(&edited, bytes).unwrap();
    let err = load_model::<B>(&edited, &Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("edited.safetensors") && err.contains("damaged"),
        "{err}"
    );
    // A PNG is not a model.
    let png = first_file(FileList::images(demo_images_dir()).unwrap());
    let err = read_model_info(&png).unwrap_err().to_string();
    assert!(err.contains("not a safetensors file"), "{err}");
}

#[test]
fn audio_decodes_to_the_encoded_length() {
    let dir = tempfile::tempdir().unwrap();
    let config = ModelConfig::Audio(AudioTrainConfig::demo().model);
    let model = loaded(&common::saved_model(
        &config,
        dir.path(),
        "audio.safetensors",
    ));
    let speech = first_file(FileList::audio(demo_speech_dir()).unwrap());
    let device = Default::default();
    let tokens = model
        .encode_file(&speech, ImageSize::Native, &device)
        .unwrap();
    let Source::Audio {
        samples,
        sample_rate,
    } = tokens.header.source
    else {
        panic!("audio source expected");
    };
    assert_eq!(sample_rate, 24_000);
    assert_eq!(
        tokens.header.shape,
        vec![samples.div_ceil(320)],
        "75 tokens/s"
    );
    let wav = dir.path().join("speech.wav");
    model.decode_to_file(&tokens, &wav, &device).unwrap();
    let reader = hound::WavReader::open(&wav).unwrap();
    assert_eq!(reader.spec().sample_rate, 24_000);
    assert_eq!(reader.len() as usize, samples);
}
