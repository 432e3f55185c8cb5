//! Training the audio codec: the reference's step ([`AudioTask`]) run by the shared GAN loop,
//! then an evaluation of the EMA weights on whole utterances of both splits, WAV pairs and a
//! mel-spectrogram PNG.

use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::backend::AutodiffBackend;
use simvq_audio::AudioCodec;
use simvq_data::{AudioClip, AudioLoader, FileList};
use simvq_quant::{Quantizer, SeededInit};

use crate::audio_config::AudioTrainConfig;
use crate::audio_report::{
    evaluate_audio, save_mel_png, save_wav_pairs, AudioEvalNetworks, AudioEvalReport,
};
use crate::audio_task::AudioTask;
use crate::error::{Result, TrainError};
use crate::gan_loop::{run_gan, LoopSettings, RunContext, RunOptions};
use crate::progress::progress_bar;
use crate::run_dir::prepare_run_dir;
use crate::run_report::RunReport;
use crate::split_eval::SplitEval;
use crate::trainable_quantizer::TrainableQuantizer;

/// The outcome of an audio run.
pub type AudioRunReport = RunReport<SplitEval<AudioEvalReport>>;

/// Trains the codec of `config` on `device`, writing everything under `options.out_dir`:
/// `config.toml`, checkpoints, and at the end `metrics.json`, `samples/*.wav` and `mels.png`
/// from the EMA weights.
pub fn train_audio<B: AutodiffBackend>(
    config: &AudioTrainConfig,
    options: &RunOptions,
    device: &B::Device,
) -> Result<AudioRunReport> {
    match &config.baseline {
        None => train_with::<B, _>(config, options, device, |init| {
            Ok(config.model.quantizer.init(init.device())?)
        }),
        Some(baseline) => train_with::<B, _>(config, options, device, |init| {
            Ok(baseline.init(init.device())?)
        }),
    }
}

/// [`train_audio`] with the codec's quantizer built by `quantizer`.
fn train_with<B: AutodiffBackend, Q: TrainableQuantizer<B>>(
    config: &AudioTrainConfig,
    options: &RunOptions,
    device: &B::Device,
    quantizer: impl FnOnce(&SeededInit<B>) -> Result<Q>,
) -> Result<AudioRunReport> {
    let started = Instant::now();
    prepare_run_dir(options, config)?;

    let sample_rate = config.model.sample_rate as u32;
    let hop = config.model.encoder.hop_length();
    // Whole frames: a crop of n·hop samples decodes to exactly its length.
    let frames = ((config.data.clip_seconds * f64::from(sample_rate)) / hop as f64).round();
    // NaN or below one token.
    if frames.is_nan() || frames < 1.0 {
        return Err(TrainError::Data(simvq_data::DataError::InvalidSetting(
            format!(
                "data.clip_seconds = {} is shorter than one token ({hop} samples)",
                config.data.clip_seconds
            ),
        )));
    }
    let (rank, nodes) = options.shard();
    let train = Arc::new(
        AudioLoader::new(
            FileList::audio_source(&options.train)?,
            AudioClip {
                sample_rate,
                length: Some(frames as usize * hop),
            },
            config.data.batch_size,
            true,
            config.data.seed,
        )?
        .with_shard(rank, nodes)?,
    );
    let val = whole_utterances(
        FileList::audio_source(&options.val)?,
        sample_rate,
        config.data.seed,
    )?;

    let bar = progress_bar(config.schedule.steps, options.progress);
    let task = AudioTask::<B, Q>::new(config, device);
    let context = RunContext {
        options,
        bar: &bar,
        device,
        started,
    };
    run_gan(
        &task,
        |init| {
            Ok((
                config.model.init_seeded_with(init, quantizer(init)?)?,
                config.discriminator.init_seeded(init),
            ))
        },
        train,
        &LoopSettings {
            schedule: &config.schedule,
            optimizer: &config.optimizer,
            codebook_size: config.codebook_size(),
            seed: config.seed,
        },
        context,
        |ema| evaluate_both_splits::<B, _>(config, options, ema, &val, device),
    )
}

/// The EMA weights on the validation utterances (saving WAV pairs and mel spectrograms of
/// the first) and on as many training utterances, spread over the training list.
fn evaluate_both_splits<
    B: AutodiffBackend,
    Q: Module<B::InnerBackend> + Quantizer<B::InnerBackend>,
>(
    config: &AudioTrainConfig,
    options: &RunOptions,
    ema: &AudioCodec<B::InnerBackend, Q>,
    val: &AudioLoader,
    device: &B::Device,
) -> Result<SplitEval<AudioEvalReport>> {
    let sample_rate = config.model.sample_rate as u32;
    let out = &options.out_dir;
    let mel = config.loss.mel.init::<B::InnerBackend>(device);
    let mut pairs = Vec::new();
    let validation = evaluate_audio(
        ema,
        &mel,
        AudioEvalNetworks::default(),
        val,
        config.schedule.eval_examples,
        device,
        |pair| {
            if pairs.len() < config.schedule.saved_examples {
                pairs.push(pair);
            }
            Ok(())
        },
    )?;
    save_wav_pairs(&pairs, &out.join("samples"), sample_rate)?;
    save_mel_png(&pairs, &mel, &out.join("mels.png"), device)?;
    let training = evaluate_audio(
        ema,
        &mel,
        AudioEvalNetworks::default(),
        &whole_utterances(
            FileList::audio_source(&options.train)?.evenly_spaced(validation.utterances),
            sample_rate,
            config.data.seed,
        )?,
        validation.utterances,
        device,
        |_| Ok(()),
    )?;
    let protocol = "end-of-training check, not the Table 2 protocol of `cargo xtask eval audio` \
                    (which also clips to ±0.99 at 16 bits and scores V/UV F1): EMA weights; \
                    whole utterances at batch 1; utilization over these utterances' tokens; \
                    log-mel L1, STOI and wide-band PESQ (16 kHz)"
        .to_string();
    Ok(SplitEval::new(protocol, options, validation, training))
}

/// The whole utterances of `files` at `sample_rate`, in order, one per batch.
fn whole_utterances(files: FileList, sample_rate: u32, seed: u64) -> Result<AudioLoader> {
    Ok(AudioLoader::new(
        files,
        AudioClip {
            sample_rate,
            length: None,
        },
        1,
        false,
        seed,
    )?)
}
