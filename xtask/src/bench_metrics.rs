//! `cargo xtask bench metrics`: the cost of the image evaluation's networks (InceptionV3 for
//! rFID, LPIPS-Alex and LPIPS-VGG) per image at the evaluation's 128², and of the Fréchet
//! distance at 2048 dimensions — what a 50,000-image evaluation will take beyond the tokenizer;
//! with `--utmos`, UTMOS's cost per second of audio. Random or closed-form weights: the cost
//! does not depend on their values.

use std::time::Instant;

use anyhow::Result;
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};
use serde::Serialize;
use simvq_metrics::{
    frechet_distance, FeatureStatistics, FidInception, Lpips, LpipsNet, Utmos, INCEPTION_FEATURES,
};

/// ImageNet validation images, the reference's evaluation set.
const IMAGENET_VAL: f64 = 50_000.0;

/// What to measure.
#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct MetricsBenchArgs {
    /// Images per batch.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Image side.
    #[arg(long, default_value_t = 128)]
    pub size: usize,
    /// Timed batches per network (after one warm-up batch).
    #[arg(long, default_value_t = 2)]
    pub batches: usize,
    /// A UTMOS checkpoint of the real shapes (the demo's, or
    /// `python tools/golden_utmos.py --full PATH`): also time UTMOS on 10 s of audio.
    #[arg(long)]
    pub utmos: Option<std::path::PathBuf>,
    /// Skip the image networks (with `--utmos`: time only UTMOS).
    #[arg(long)]
    pub skip_image: bool,
}

/// The measurement.
#[derive(Debug, Clone, Serialize)]
pub struct MetricsBenchReport {
    /// InceptionV3 pool features (resize to 299² included), images per second.
    pub inception_images_per_second: f64,
    /// LPIPS-Alex, image pairs per second.
    pub lpips_alex_pairs_per_second: f64,
    /// LPIPS-VGG, image pairs per second.
    pub lpips_vgg_pairs_per_second: f64,
    /// One Fréchet distance between two sets of more than 2048 features, seconds.
    pub frechet_distance_seconds: f64,
    /// Hours for the three networks over ImageNet val (originals and reconstructions through
    /// Inception, one LPIPS pass per pair and network) at these speeds.
    pub hours_for_imagenet_val: f64,
}

/// UTMOS's cost.
#[derive(Debug, Clone, Serialize)]
pub struct UtmosBenchReport {
    /// Seconds of 16 kHz audio scored per second (one 10-s utterance, after a warm-up).
    pub audio_seconds_per_second: f64,
    /// Hours for LibriTTS test-other (about 10 h of speech) at this speed.
    pub hours_for_test_other: f64,
}

/// Everything measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// The image evaluation's networks (absent with `--skip-image`).
    pub image: Option<MetricsBenchReport>,
    /// UTMOS (with `--utmos`).
    pub utmos: Option<UtmosBenchReport>,
}

/// LibriTTS test-other's duration in seconds, roughly.
const TEST_OTHER_SECONDS: f64 = 10.0 * 3600.0;

/// Times UTMOS from `path` on a 10-s signal.
fn utmos_cost<B: Backend>(path: &std::path::Path, device: &B::Device) -> Result<UtmosBenchReport> {
    let utmos = Utmos::<B>::load(path, device)?;
    let seconds = 10.0;
    let wave: Vec<f32> = (0..(seconds * 16_000.0) as usize)
        .map(|i| (0.3 * (i as f64 * 0.0863).sin()) as f32)
        .collect();
    utmos.score(&wave[..16_000], device)?;
    let started = Instant::now();
    utmos.score(&wave, device)?;
    let rate = seconds / started.elapsed().as_secs_f64();
    Ok(UtmosBenchReport {
        audio_seconds_per_second: rate,
        hours_for_test_other: TEST_OTHER_SECONDS / rate / 3600.0,
    })
}

/// Runs the benchmarks `args` ask for on backend `B`.
pub fn run<B: Backend>(args: &MetricsBenchArgs, device: &B::Device) -> Result<BenchReport> {
    Ok(BenchReport {
        image: (!args.skip_image)
            .then(|| image_networks::<B>(args, device))
            .transpose()?,
        utmos: args
            .utmos
            .as_deref()
            .map(|path| utmos_cost::<B>(path, device))
            .transpose()?,
    })
}

/// Images per second of `f` over `args.batches` timed batches.
fn images_per_second<B: Backend>(
    args: &MetricsBenchArgs,
    device: &B::Device,
    mut f: impl FnMut(Tensor<B, 4>),
) -> f64 {
    let batch = || {
        Tensor::<B, 4>::random(
            [args.batch, 3, args.size, args.size],
            Distribution::Uniform(-1.0, 1.0),
            device,
        )
    };
    f(batch());
    let started = Instant::now();
    for _ in 0..args.batches {
        f(batch());
    }
    (args.batches * args.batch) as f64 / started.elapsed().as_secs_f64()
}

/// Times the image evaluation's networks on backend `B`.
fn image_networks<B: Backend>(
    args: &MetricsBenchArgs,
    device: &B::Device,
) -> Result<MetricsBenchReport> {
    let inception = FidInception::<B>::random(device);
    let inception_rate = images_per_second(args, device, |x| {
        let _ = inception.features(x).into_data();
    });
    let mut lpips_rates = Vec::new();
    for net in [LpipsNet::Alex, LpipsNet::Vgg] {
        let lpips = Lpips::<B>::random(net, device);
        lpips_rates.push(images_per_second(args, device, |x| {
            let _ = lpips.forward(x.clone(), x.mul_scalar(0.5)).into_data();
        }));
    }
    // More vectors than dimensions, so the full 2048-d path is timed.
    let rows = INCEPTION_FEATURES + 16;
    let mut a = FeatureStatistics::new(INCEPTION_FEATURES);
    let mut b = FeatureStatistics::new(INCEPTION_FEATURES);
    let features = |scale: f64| -> Vec<f32> {
        (0..rows * INCEPTION_FEATURES)
            .map(|i| ((i as f64 * 0.618_034 * scale).fract() - 0.5) as f32)
            .collect()
    };
    a.update(&features(1.0))?;
    b.update(&features(1.3))?;
    let started = Instant::now();
    frechet_distance(&a, &b)?;
    let frechet_seconds = started.elapsed().as_secs_f64();
    let seconds_per_image = 2.0 / inception_rate + 1.0 / lpips_rates[0] + 1.0 / lpips_rates[1];
    Ok(MetricsBenchReport {
        inception_images_per_second: inception_rate,
        lpips_alex_pairs_per_second: lpips_rates[0],
        lpips_vgg_pairs_per_second: lpips_rates[1],
        frechet_distance_seconds: frechet_seconds,
        hours_for_imagenet_val: IMAGENET_VAL * seconds_per_image / 3600.0,
    })
}
