//! Training the audio codec: the reference's step (45 × mel + MPD/MRD/DAC GAN and feature
//! matching + 1000 × commitment for the generator; hinge and least-squares terms for the
//! discriminators) run by the shared GAN loop, then an evaluation of the EMA weights on whole
//! utterances, WAV pairs and a mel-spectrogram PNG.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};
use simvq_audio::{audio_discriminator_loss, AudioCodec, AudioDiscriminator, AudioLoss};
use simvq_data::{AudioBatch, AudioClip, AudioLoader, FileList};
use simvq_quant::CodebookUsage;

use crate::audio_config::AudioTrainConfig;
use crate::audio_report::{
    evaluate_audio, save_mel_png, save_wav_pairs, AudioEvalNetworks, AudioEvalReport,
};
use crate::error::{Result, TrainError};
use crate::gan_loop::{
    finish, prepare_run_dir, progress_bar, run_gan, scalars, GanTask, LoopSettings, RunOptions,
    RunReport, ShardStep,
};
use crate::gradients::module_gradients;
use crate::split_eval::SplitEval;

/// The outcome of an audio run.
pub type AudioRunReport = RunReport<SplitEval<AudioEvalReport>>;

/// The codec's step.
pub(crate) struct AudioTask<B: AutodiffBackend> {
    loss: AudioLoss<B>,
}

impl<B: AutodiffBackend> AudioTask<B> {
    /// The step of `config`, its loss (the mel filterbank) on `device`.
    pub(crate) fn new(config: &AudioTrainConfig, device: &B::Device) -> Self {
        Self {
            loss: config.loss.init::<B>(device),
        }
    }
}

impl<B: AutodiffBackend> GanTask<B> for AudioTask<B> {
    type Generator = AudioCodec<B>;
    type Discriminator = AudioDiscriminator<B>;
    type Data = AudioClip;

    fn loss_names(&self) -> &'static [&'static str] {
        &[
            "generator",
            "mel",
            "gan",
            "feature_matching",
            "commitment",
            "discriminator",
        ]
    }

    fn unit(&self) -> &'static str {
        "clips"
    }

    fn seed_step(&self, generator: &AudioCodec<B>, seed: u64) {
        generator.reseed_dropout(seed);
    }

    fn batch_len(&self, batch: &AudioBatch) -> usize {
        batch.shape[0]
    }

    fn shard_step(
        &self,
        codec: &AudioCodec<B>,
        discriminator: &AudioDiscriminator<B>,
        batch: &AudioBatch,
        examples: Range<usize>,
        weight: f64,
        device: &B::Device,
        forked: bool,
        usage: &mut CodebookUsage,
    ) -> Result<ShardStep> {
        let width = batch.shape[1];
        let samples = batch.samples[examples.start * width..examples.end * width].to_vec();
        let x =
            Tensor::<B, 2>::from_data(TensorData::new(samples, [examples.len(), width]), device);
        let loss = if forked {
            self.loss.clone().fork(device)
        } else {
            self.loss.clone()
        };

        let out = codec.forward(x.clone())?;
        // Crops are whole frames, so the output has the input's length; trim in case a
        // config's crop is not.
        let x_hat = out.reconstruction.narrow(1, 0, width);
        // One pass over the real audio serves both objectives: detached for the generator's
        // feature matching, attached for the discriminator's loss.
        let real = discriminator.forward(x.clone());
        let fake = discriminator.forward(x_hat.clone());
        let g = loss.generator(x, x_hat.clone(), &real.detach(), &fake, &out.quant_loss);
        let mut grads = (g.total.clone() * weight).backward();
        let generator = module_gradients(&mut grads, codec);

        // The discriminator on the same reconstructions, detached.
        let fake = discriminator.forward(x_hat.detach());
        let d_loss = audio_discriminator_loss(&real, &fake, loss.mrd_weight());
        let mut grads = (d_loss.clone() * weight).backward();
        let discriminator_grads = module_gradients(&mut grads, discriminator);

        usage.update(&out.indices)?;
        Ok(ShardStep {
            generator,
            discriminator: discriminator_grads,
            losses: scalars(vec![
                g.total,
                g.mel,
                g.adversarial,
                g.feature_matching,
                g.commitment,
                d_loss,
            ]),
        })
    }

    fn latents(
        &self,
        codec: &AudioCodec<B>,
        batch: &AudioBatch,
        device: &B::Device,
    ) -> Result<Tensor<B, 2>> {
        Ok(codec.latents(wave_tensor(batch, device))?.detach())
    }

    fn init_encoder_from_data(
        &self,
        codec: AudioCodec<B>,
        batches: &[AudioBatch],
        device: &B::Device,
    ) -> Result<AudioCodec<B>> {
        let waves = batches.iter().map(|b| wave_tensor(b, device)).collect();
        Ok(codec.init_encoder_from_data(Tensor::cat(waves, 0))?)
    }

    fn fit_codebook(
        &self,
        mut codec: AudioCodec<B>,
        latents: Tensor<B, 2>,
        rate: f64,
    ) -> Result<AudioCodec<B>> {
        codec.quantizer = codec.quantizer.move_towards_latents(latents, rate)?;
        Ok(codec)
    }
}

/// The whole of `batch` as a `[batch, samples]` waveform tensor on `device`.
fn wave_tensor<B: AutodiffBackend>(batch: &AudioBatch, device: &B::Device) -> Tensor<B, 2> {
    Tensor::from_data(TensorData::new(batch.samples.clone(), batch.shape), device)
}

/// Trains the codec of `config` on `device`, writing everything under `options.out_dir`:
/// `config.toml`, checkpoints, and at the end `metrics.json`, `samples/*.wav` and `mels.png`
/// from the EMA weights.
pub fn train_audio<B: AutodiffBackend>(
    config: &AudioTrainConfig,
    options: &RunOptions,
    device: &B::Device,
) -> Result<AudioRunReport> {
    let started = Instant::now();
    let out = &options.out_dir;
    prepare_run_dir(out, config)?;

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
    let train = Arc::new(AudioLoader::new(
        FileList::audio_source(&options.train)?,
        AudioClip {
            sample_rate,
            length: Some(frames as usize * hop),
        },
        config.data.batch_size,
        true,
        config.data.seed,
    )?);
    let val = whole_utterances(&options.val, sample_rate, config.data.seed)?;

    let bar = progress_bar(config.schedule.steps, options.progress);
    let task = AudioTask::<B>::new(config, device);
    let trained = run_gan(
        &task,
        |init| {
            Ok((
                config.model.init_seeded(init)?,
                config.discriminator.init_seeded(init),
            ))
        },
        train,
        &LoopSettings {
            schedule: &config.schedule,
            optimizer: &config.optimizer,
            codebook_size: config.model.quantizer.codebook_size,
            seed: config.seed,
        },
        options,
        &bar,
        device,
    )?;
    if !trained.finished {
        return finish(trained.state, None, started, trained.checkpoint, out);
    }
    let mel = config.loss.mel.init::<B::InnerBackend>(device);
    let mut pairs = Vec::new();
    let validation = evaluate_audio(
        &trained.ema,
        &mel,
        AudioEvalNetworks::default(),
        &val,
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
        &trained.ema,
        &mel,
        AudioEvalNetworks::default(),
        &whole_utterances(&options.train, sample_rate, config.data.seed)?,
        validation.utterances,
        device,
        |_| Ok(()),
    )?;
    let protocol = "end-of-training check, not the Table 2 protocol of `cargo xtask eval audio` \
                    (which also clips to ±0.99 at 16 bits and scores V/UV F1): EMA weights; \
                    whole utterances at batch 1; utilization over these utterances' tokens; \
                    log-mel L1, STOI and wide-band PESQ (16 kHz)"
        .to_string();
    let eval = SplitEval::new(protocol, options, validation, training);
    finish(trained.state, Some(eval), started, trained.checkpoint, out)
}

/// Whole utterances of `source` at `sample_rate`, in order, one per batch.
fn whole_utterances(source: &Path, sample_rate: u32, seed: u64) -> Result<AudioLoader> {
    Ok(AudioLoader::new(
        FileList::audio_source(source)?,
        AudioClip {
            sample_rate,
            length: None,
        },
        1,
        false,
        seed,
    )?)
}
