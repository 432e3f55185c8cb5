//! Helpers shared by the simvq-cli tests.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use simvq_audio::{AudioCodecConfig, SeanetConfig, VocosConfig};
use simvq_cli::{save_model, ModelConfig};
use simvq_image::{AutoencoderConfig, ImageTokenizerConfig};
use simvq_quant::SimVqConfig;
use simvq_testkit::Tolerance;
use simvq_train::ImageTrainConfig;

pub mod audio_step;

/// Losses and parameters of a training step against the same step in PyTorch: f32
/// arithmetic in both, summed in other orders.
pub const STEP: Tolerance = Tolerance {
    abs: 1e-6,
    rel: 1e-5,
};

/// The file `name` under tests/fixtures.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A small image tokenizer (f = 2) with `codebook_size` codes; `seed` draws its frozen codebook.
pub fn tiny_image_config(codebook_size: usize, seed: u64) -> ModelConfig {
    let mut config = ImageTrainConfig::demo().model;
    config.autoencoder = AutoencoderConfig::new()
        .with_channels(32)
        .with_channel_multipliers(vec![1, 2])
        .with_res_blocks(1)
        .with_z_channels(8);
    config.quantizer = SimVqConfig::new()
        .with_codebook_size(codebook_size)
        .with_dim(8)
        .with_seed(seed);
    ModelConfig::Image(config)
}

/// The image tokenizer of the reference-layout fixtures (tools/golden_import_image.py,
/// golden_image_step.py): ch 32, ch_mult [1, 1], one block per level, z 8, K 32.
pub fn fixture_image_tokenizer() -> ImageTokenizerConfig {
    ImageTokenizerConfig::new(
        AutoencoderConfig::new()
            .with_channels(32)
            .with_channel_multipliers(vec![1, 1])
            .with_res_blocks(1)
            .with_z_channels(8),
        SimVqConfig::new().with_codebook_size(32).with_dim(8),
    )
}

/// The codec of the reference-layout audio fixtures (tools/golden_import_audio.py,
/// golden_audio_step.py): SEANet with 4 filters, 16-d codes and a 2-layer LSTM, the
/// reference's strides; a Vocos backbone 64 wide (two channels per GroupNorm group) with 2
/// ConvNeXt blocks; K 64.
pub fn fixture_audio_codec() -> AudioCodecConfig {
    AudioCodecConfig::new(
        SeanetConfig::new().with_filters(4).with_dimension(16),
        SimVqConfig::new().with_codebook_size(64).with_dim(16),
        VocosConfig::new()
            .with_input_channels(16)
            .with_dim(64)
            .with_intermediate_dim(128)
            .with_layers(2),
    )
}

/// A freshly initialised model of `config`, saved as `dir/name`.
pub fn saved_model(config: &ModelConfig, dir: &Path, name: &str) -> PathBuf {
    let tokenizer = config.init::<Flex>(&Default::default()).unwrap();
    let path = dir.join(name);
    save_model(&tokenizer, config, "test", &path).unwrap();
    path
}

/// A flat folder `dir/photos` holding the first `n` validation photos of the built-in data
/// (the whole set is 500 files: more than a test needs to convert).
pub fn few_photos(dir: &Path, n: usize) -> PathBuf {
    let folder = dir.join("photos");
    std::fs::create_dir_all(&folder).unwrap();
    let val = simvq_data::FileList::images(simvq_data::demo_images_dir().join("val")).unwrap();
    for file in &val.files()[..n] {
        std::fs::copy(file, folder.join(file.file_name().unwrap())).unwrap();
    }
    folder
}
