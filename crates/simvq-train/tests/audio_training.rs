//! The audio codec trains end to end on the demo speech (WAV pairs, mel PNG, metrics), and a
//! stopped run resumes to exactly the uninterrupted run's weights — dropout included, since
//! the backend is reseeded every step.

mod common;

use std::path::Path;

use burn::backend::{Autodiff, Flex};
use simvq_audio::{
    AudioCodecConfig, DacConfig, MultiPeriodConfig, MultiResolutionConfig, SeanetConfig,
    VocosConfig,
};
use simvq_quant::SimVqConfig;
use simvq_train::{
    train_audio, AudioTrainConfig, CheckpointDir, CodebookInit, EncoderInit, RunOptions,
};

type B = Autodiff<Flex>;

/// A codec and discriminators (DAC included) small enough for a few test steps.
fn tiny_config(steps: usize) -> AudioTrainConfig {
    let mut config = AudioTrainConfig::demo();
    config.model = AudioCodecConfig::new(
        SeanetConfig::new()
            .with_filters(4)
            .with_dimension(16)
            .with_lstm_layers(1),
        SimVqConfig::new().with_codebook_size(32).with_dim(16),
        VocosConfig::new()
            .with_input_channels(16)
            .with_dim(32)
            .with_intermediate_dim(48)
            .with_layers(1),
    );
    let narrow = vec![4, 4, 8, 8, 8];
    config.discriminator.mpd = MultiPeriodConfig::new().with_channels(narrow.clone());
    config.discriminator.mrd = MultiResolutionConfig::new().with_channels(4);
    config.discriminator.dac = DacConfig::new()
        .with_period_channels(narrow)
        .with_band_channels(4);
    config.discriminator.use_dac = true;
    config.data.clip_seconds = 0.2;
    config.schedule.steps = steps;
    config.schedule.log_every = 2;
    config.schedule.checkpoint_every = 2;
    // The data-dependent encoder init and codebook, refitted over the resume point: a
    // resumed run takes both from the checkpoint and replays the refits exactly.
    config.schedule.encoder_init = EncoderInit::Data;
    config.schedule.codebook_init = CodebookInit::Data;
    config.schedule.codebook_refit_steps = 3;
    config
}

/// Two CMU ARCTIC utterances (the data crate's fixtures), serving as both splits.
fn options(out: &Path, resume: bool, stop_after: Option<usize>) -> RunOptions {
    let arctic = Path::new(env!("CARGO_MANIFEST_DIR")).join("../simvq-data/tests/fixtures/arctic");
    common::options(arctic, out, resume, stop_after)
}

fn weights(config: &AudioTrainConfig, dir: &Path, name: &str) -> Vec<Vec<f32>> {
    let device = Default::default();
    let path = dir.join(name);
    if name == "discriminator" {
        common::checkpoint_weights(config.discriminator.init::<Flex>(&device), &path)
    } else {
        common::checkpoint_weights(config.model.init::<Flex>(&device).unwrap(), &path)
    }
}

#[test]
fn audio_training_writes_samples_and_resumes_exactly() {
    let config = tiny_config(4);
    let device = Default::default();
    let straight = tempfile::tempdir().unwrap();
    let full = train_audio::<B>(&config, &options(straight.path(), false, None), &device).unwrap();
    assert_eq!(full.steps, 4);
    let split = full.eval.as_ref().expect("a finished run is evaluated");
    assert!(
        !split.validation.held_out,
        "one folder serves both splits, and says so"
    );
    assert_eq!(split.training.metrics, split.validation.metrics);
    let eval = &split.validation.metrics;
    assert_eq!(eval.utterances, 2);
    assert!((eval.seconds - (64_000.0 + 49_520.0) / 16_000.0).abs() < 1e-3);
    assert!(eval.mel_l1.is_finite() && eval.utilization > 0.0);
    assert!(
        eval.stoi.is_finite() && eval.stoi < 0.99,
        "an untrained codec: {}",
        eval.stoi
    );
    for file in [
        "metrics.json",
        "mels.png",
        "config.toml",
        "samples/arctic_a0007.original.wav",
        "samples/arctic_a0007.reconstructed.wav",
        "samples/arctic_a0009.reconstructed.wav",
    ] {
        assert!(straight.path().join(file).is_file(), "{file}");
    }
    let reconstructed = hound::WavReader::open(
        straight
            .path()
            .join("samples/arctic_a0009.reconstructed.wav"),
    )
    .unwrap();
    assert_eq!(reconstructed.spec().sample_rate, 24_000);
    assert_eq!(
        reconstructed.len(),
        74_280,
        "as long as the original at 24 kHz"
    );
    let losses = &full.history.last().unwrap().losses;
    for name in [
        "generator",
        "mel",
        "gan",
        "feature_matching",
        "commitment",
        "discriminator",
    ] {
        assert!(losses[name].is_finite(), "{name}");
    }

    let interrupted = tempfile::tempdir().unwrap();
    train_audio::<B>(
        &config,
        &options(interrupted.path(), false, Some(2)),
        &device,
    )
    .unwrap();
    let resumed =
        train_audio::<B>(&config, &options(interrupted.path(), true, None), &device).unwrap();
    assert_eq!(resumed.steps, 4);
    let last = |dir: &Path| CheckpointDir::new(dir, 2).latest().unwrap().unwrap().1;
    for name in ["model", "ema", "discriminator"] {
        assert_eq!(
            weights(&config, &last(straight.path()), name),
            weights(&config, &last(interrupted.path()), name),
            "{name} differs after resume"
        );
    }
    let (a, b) = (
        full.history.last().unwrap(),
        resumed.history.last().unwrap(),
    );
    assert_eq!(
        (a.step, &a.losses, a.utilization),
        (b.step, &b.losses, b.utilization)
    );
}
