//! Training runs end to end, a stopped run resumes to exactly the uninterrupted run's state,
//! checkpoints are atomic, and non-finite losses stop without corrupting them.

mod common;

use std::path::Path;

use burn::backend::{Autodiff, Flex};
use simvq_data::demo_images_dir;
use simvq_quant::SimVqConfig;
use simvq_train::{
    train_image, CheckpointDir, CodebookInit, ImageTrainConfig, NonFinitePolicy, RunOptions,
    TrainError,
};

type B = Autodiff<Flex>;

/// A tokenizer small enough to train for a few steps in a test.
fn tiny_config(steps: usize) -> ImageTrainConfig {
    let mut config = ImageTrainConfig::demo();
    config.model.autoencoder = common::tiny_autoencoder();
    config.model.quantizer = SimVqConfig::new().with_codebook_size(64).with_dim(8);
    config.discriminator.base_channels = 8;
    config.discriminator.layers = 2;
    config.data.image_size = 16;
    config.data.batch_size = 3;
    config.schedule.steps = steps;
    config.schedule.log_every = 2;
    config.schedule.checkpoint_every = 2;
    config.schedule.keep_checkpoints = 2;
    config.schedule.eval_examples = 6;
    config.schedule.ema_decay = 0.9;
    config.data.eval_size = None;
    // The data-dependent codebook, refitted during the first steps: resume must replay it too.
    config.schedule.codebook_init = CodebookInit::Data;
    config.schedule.codebook_refit_steps = 4;
    config
}

fn options(out: &Path, resume: bool, stop_after: Option<usize>) -> RunOptions {
    RunOptions {
        train: demo_images_dir().join("train"),
        val: demo_images_dir().join("val"),
        ..common::options(demo_images_dir(), out, resume, stop_after)
    }
}

/// The weights of checkpoint `dir`'s `name` file.
fn checkpoint_weights(config: &ImageTrainConfig, dir: &Path, name: &str) -> Vec<Vec<f32>> {
    let device = Default::default();
    let path = dir.join(name);
    if name == "discriminator" {
        common::checkpoint_weights(config.discriminator.init::<Flex>(&device), &path)
    } else {
        common::checkpoint_weights(config.model.init::<Flex>(&device).unwrap(), &path)
    }
}

#[test]
fn a_stopped_run_resumes_to_the_same_state_as_an_uninterrupted_one() {
    let config = tiny_config(6);
    let device = Default::default();
    let straight = tempfile::tempdir().unwrap();
    let full = train_image::<B>(&config, &options(straight.path(), false, None), &device).unwrap();
    assert_eq!(full.steps, 6);
    let eval = full.eval.as_ref().expect("a finished run is evaluated");
    assert!(eval.validation.held_out && !eval.protocol.is_empty());
    assert!(eval.validation.source.ends_with("val") && eval.training.source.ends_with("train"));
    for split in [&eval.validation, &eval.training] {
        assert_eq!(split.metrics.images, 6);
        assert!(split.metrics.psnr.is_finite() && split.metrics.utilization > 0.0);
    }
    assert!(straight.path().join("metrics.json").is_file());
    assert!(straight.path().join("reconstructions.png").is_file());
    assert!(straight.path().join("config.toml").is_file());

    let interrupted = tempfile::tempdir().unwrap();
    let first = train_image::<B>(
        &config,
        &options(interrupted.path(), false, Some(3)),
        &device,
    )
    .unwrap();
    assert_eq!(first.steps, 3);
    assert!(first.eval.is_none());
    // A checkpoint half-written when the process died must be ignored.
    let partial = interrupted
        .path()
        .join("checkpoints/step-000000005.partial");
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::write(partial.join("model.mpk"), b"garbage").unwrap();
    let resumed =
        train_image::<B>(&config, &options(interrupted.path(), true, None), &device).unwrap();
    assert_eq!(resumed.steps, 6);

    let last = |dir: &Path| CheckpointDir::new(dir, 2).latest().unwrap().unwrap();
    let (step_a, dir_a) = last(straight.path());
    let (step_b, dir_b) = last(interrupted.path());
    assert_eq!((step_a, step_b), (6, 6));
    for name in ["model", "ema", "discriminator"] {
        let (a, b) = (
            checkpoint_weights(&config, &dir_a, name),
            checkpoint_weights(&config, &dir_b, name),
        );
        let differing: Vec<(usize, f32)> = a
            .iter()
            .zip(&b)
            .enumerate()
            .map(|(i, (x, y))| {
                (
                    i,
                    x.iter()
                        .zip(y)
                        .map(|(p, q)| (p - q).abs())
                        .fold(0.0, f32::max),
                )
            })
            .filter(|(_, d)| *d > 0.0)
            .collect();
        assert!(
            differing.is_empty(),
            "{name} differs after resume: {differing:?}"
        );
    }
    // The EMA really averages: it is not the live model.
    assert_ne!(
        checkpoint_weights(&config, &dir_a, "model"),
        checkpoint_weights(&config, &dir_a, "ema")
    );
    // The last logging window (steps 5–6) lies wholly after the resume: same losses.
    let (a, b) = (
        full.history.last().unwrap(),
        resumed.history.last().unwrap(),
    );
    assert_eq!(a.step, 6);
    assert_eq!(a.losses, b.losses);
    assert_eq!(a.utilization, b.utilization);
    assert_eq!(eval, resumed.eval.as_ref().unwrap());
    // Only the newest `keep_checkpoints` remain.
    let kept: Vec<usize> = CheckpointDir::new(straight.path(), 2)
        .list()
        .unwrap()
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(kept, [4, 6]);
}

#[test]
fn a_non_finite_loss_stops_the_run_and_keeps_the_last_checkpoint() {
    let mut config = tiny_config(4);
    config.schedule.checkpoint_every = 1;
    config.optimizer.learning_rate = 1e30;
    let device = Default::default();
    let out = tempfile::tempdir().unwrap();
    let err = train_image::<B>(&config, &options(out.path(), false, None), &device).unwrap_err();
    let TrainError::NonFinite { step, .. } = err else {
        panic!("expected a non-finite error, got {err}");
    };
    assert!(step >= 2, "the first loss is computed before any update");
    let (last, dir) = CheckpointDir::new(out.path(), 2).latest().unwrap().unwrap();
    assert_eq!(last, step - 1, "nothing written for the failed step");
    assert_eq!(
        checkpoint_weights(&config, &dir, "model").len(),
        simvq_testkit::module_weights(&config.model.init::<Flex>(&device).unwrap()).len()
    );

    config.schedule.on_non_finite = NonFinitePolicy::Skip;
    let out = tempfile::tempdir().unwrap();
    let report = train_image::<B>(&config, &options(out.path(), false, None), &device).unwrap();
    assert_eq!(report.steps, 4);
    assert!(report.non_finite_skips > 0);
    // A skipped step is still a step: the checkpoint of the last one is written.
    let (last, _) = CheckpointDir::new(out.path(), 2).latest().unwrap().unwrap();
    assert_eq!(last, 4);
}

#[test]
fn data_parallel_steps_match_the_single_device_step() {
    // Without the GAN term the generator's gradient does not depend on the discriminator's
    // per-device BatchNorm statistics, so two half-batches must give the whole batch's step.
    let mut config = tiny_config(2);
    config.data.batch_size = 4;
    config.loss.generator_weight = 0.0;
    config.schedule.checkpoint_every = 2;
    let device = Default::default();
    let mut last_ema = Vec::new();
    for devices in [1, 2] {
        let out = tempfile::tempdir().unwrap();
        let mut opts = options(out.path(), false, None);
        opts.devices = devices;
        let report = train_image::<B>(&config, &opts, &device).unwrap();
        assert_eq!(report.steps, 2);
        let (_, dir) = CheckpointDir::new(out.path(), 2).latest().unwrap().unwrap();
        last_ema.push(checkpoint_weights(&config, &dir, "ema").concat());
    }
    let worst = last_ema[0]
        .iter()
        .zip(&last_ema[1])
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst < 1e-5, "1 vs 2 devices differ by {worst}");
}
