//! What both comparisons of the audio training step with tools/golden_audio_step.py share (the
//! f32 one in audio_training_step.rs, the f64 one in audio_training_step_f64.rs): the script's
//! codec, discriminators, batches and checksums, and the two steps themselves.

use std::collections::BTreeMap;

use burn::backend::{Autodiff, Flex};
use burn::module::Module;
use burn_store::{ModuleSnapshot, TensorSnapshot};
use simvq_audio::{AudioCodec, AudioDiscriminator};
use simvq_cli::{import_checkpoint, Checkpoint, ModelConfig, Tokenizer};
use simvq_data::AudioBatch;
use simvq_testkit::{
    assert_close_scalar, broadband_at, number, numbers, ClosedFormWeights, Tolerance, Value,
};
use simvq_train::{AudioStep, AudioTrainConfig, LossRecord};

pub type B = Autodiff<Flex>;

/// The script's run: the fixture codec without dropout, the reference's discriminators, loss
/// and optimizer.
pub fn config() -> AudioTrainConfig {
    let mut config = AudioTrainConfig::reference(64);
    config.model = super::fixture_audio_codec();
    config.model.backbone.dropout = 0.0;
    config
}

/// The script's batch for `salt`: `0.4 sin(0.021 i + s) + 0.2 sin(0.13 i + 2 s) +
/// broadband(i, s, 0.1)` over the flat index of `[clips, samples]`, in f64, rounded to f32.
fn batch(salt: f64, clips: usize, samples: usize) -> AudioBatch {
    let values = (0..clips * samples)
        .map(|i| {
            let t = i as f64;
            let tones = 0.4 * (0.021 * t + salt).sin() + 0.2 * (0.13 * t + 2.0 * salt).sin();
            (tones + broadband_at(i, salt, 0.1)) as f32
        })
        .collect();
    AudioBatch {
        samples: values,
        shape: [clips, samples],
        lengths: vec![samples; clips],
        paths: Vec::new(),
    }
}

/// Every tensor of `module` whose path `keep` accepts, by path, as f64.
pub fn tensors<M: ModuleSnapshot<B>>(
    module: &M,
    keep: impl Fn(&str) -> bool,
) -> BTreeMap<String, Vec<f64>> {
    module
        .collect(None, None, false)
        .into_iter()
        .filter(|s| keep(&s.full_path()))
        .map(|s| (s.full_path(), values(&s)))
        .collect()
}

fn values(snapshot: &TensorSnapshot) -> Vec<f64> {
    snapshot
        .to_data()
        .unwrap()
        .convert::<f64>()
        .to_vec()
        .unwrap()
}

/// A tensor's sum and `sin(0.37 i + 1)`-weighted sum: the script's checksums. The weighted
/// sum is linear, so the update's is the difference of the after and before ones.
#[derive(Debug, Clone, Copy)]
pub struct Checksums {
    pub sum: f64,
    pub weighted: f64,
}

/// Every tensor's checksums by path, one tensor in memory at a time (the discriminators hold
/// 85 M values: as f64 copies before and after, 1.4 GB).
pub fn checksums<M: ModuleSnapshot<B>>(module: &M) -> BTreeMap<String, Checksums> {
    module
        .collect(None, None, false)
        .into_iter()
        .map(|s| {
            let values = values(&s);
            let weighted = values
                .iter()
                .enumerate()
                .map(|(i, v)| v * (0.37 * i as f64 + 1.0).sin())
                .sum();
            let sum = values.iter().sum();
            (s.full_path(), Checksums { sum, weighted })
        })
        .collect()
}

/// The fixture codec with the weights of checkpoint `name` (raw, not EMA).
pub fn codec(name: &str, config: &AudioTrainConfig) -> AudioCodec<B> {
    let checkpoint = Checkpoint::read(&super::fixture(name)).unwrap();
    let model = ModelConfig::Audio(config.model.clone());
    match import_checkpoint::<B>(&checkpoint, &model, false, &Default::default()) {
        Ok((Tokenizer::Audio(codec), _)) => codec,
        Ok(_) => panic!("{name} imported as an image tokenizer"),
        Err(e) => panic!("{e}"),
    }
}

/// The models after the script's steps, and the discriminators' checksums before them.
pub struct Stepped {
    pub model: AudioCodec<B>,
    pub discriminator: AudioDiscriminator<B>,
    pub before: BTreeMap<String, Checksums>,
}

/// The script's steps (`golden[steps]`, one per batch) from its initial weights, each step's
/// losses checked to `loss` and the codes used over all of them exactly.
pub fn run_the_scripts_steps(golden: &Value, steps: &str, loss: Tolerance) -> Stepped {
    let [clips, samples] = ["clips", "samples"].map(|k| golden[k].as_u64().unwrap() as usize);
    let config = config();
    let device = Default::default();
    let mut model = codec("audio_ckpt.ckpt", &config);
    let mut discriminator: AudioDiscriminator<B> = config
        .discriminator
        .init::<B>(&device)
        .map(&mut ClosedFormWeights);
    assert_eq!(
        discriminator.num_params() as u64,
        golden["discriminator_parameters"].as_u64().unwrap()
    );
    let before = checksums(&discriminator);

    let mut step = AudioStep::new(&config, &device);
    let mut codes = vec![0u64; config.model.quantizer.codebook_size];
    for (k, want) in golden[steps].as_array().unwrap().iter().enumerate() {
        let x = batch(number(&want["salt"]), clips, samples);
        let (m, d, losses) = step.step(model, discriminator, &x, &device).unwrap();
        (model, discriminator) = (m, d);
        for (name, got) in losses.terms() {
            let expected = number(&want["losses"][name]);
            assert_close_scalar(got, expected, loss, &format!("step {k}: {name} loss"));
        }
        for code in numbers(&want["codes"]) {
            codes[code as usize] += 1;
        }
    }
    assert_eq!(
        step.usage().counts(),
        &codes[..],
        "codes used over the steps"
    );
    Stepped {
        model,
        discriminator,
        before,
    }
}
