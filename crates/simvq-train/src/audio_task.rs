//! The audio codec's training step, the reference's: 45 × mel + MPD/MRD/DAC GAN and feature
//! matching + 1000 × commitment for the generator; hinge and least-squares terms for the
//! discriminators; on one device's shard of a batch.

use std::marker::PhantomData;
use std::ops::Range;

use burn::module::Module;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};
use serde::Serialize;
use simvq_audio::{audio_discriminator_loss, AudioCodec, AudioDiscriminator, AudioLoss};
use simvq_data::{AudioBatch, AudioClip};
use simvq_quant::{CodebookUsage, SimVq};

use crate::audio_config::AudioTrainConfig;
use crate::error::Result;
use crate::gradients::module_gradients;
use crate::loss_record::LossRecord;
use crate::task::{scalars, GanTask, ShardStep};
use crate::trainable_quantizer::TrainableQuantizer;

/// The losses of an audio step (each unweighted, before the step's update).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AudioLosses {
    /// The codec's objective: the `loss.*_weight`-weighted `mel`, `gan` + `feature_matching`
    /// and `commitment`.
    pub generator: f64,
    /// L1 distance of the log-mel spectrograms.
    pub mel: f64,
    /// GAN loss of the reconstructions over every discriminator.
    pub gan: f64,
    /// Feature-matching loss over every discriminator.
    pub feature_matching: f64,
    /// The quantizer's commitment loss.
    pub commitment: f64,
    /// The discriminators' loss.
    pub discriminator: f64,
}

impl LossRecord for AudioLosses {
    const RECONSTRUCTION: &'static str = "mel";

    fn terms(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("generator", self.generator),
            ("mel", self.mel),
            ("gan", self.gan),
            ("feature_matching", self.feature_matching),
            ("commitment", self.commitment),
            ("discriminator", self.discriminator),
        ]
    }
}

/// The codec's step, for a codec quantizing with `Q`.
pub(crate) struct AudioTask<B: AutodiffBackend, Q = SimVq<B>> {
    loss: AudioLoss<B>,
    quantizer: PhantomData<Q>,
}

impl<B: AutodiffBackend, Q> AudioTask<B, Q> {
    /// The step of `config`, its loss (the mel filterbank) on `device`.
    pub(crate) fn new(config: &AudioTrainConfig, device: &B::Device) -> Self {
        Self {
            loss: config.loss.init::<B>(device),
            quantizer: PhantomData,
        }
    }
}

impl<B: AutodiffBackend, Q: TrainableQuantizer<B>> GanTask<B> for AudioTask<B, Q> {
    type Generator = AudioCodec<B, Q>;
    type Discriminator = AudioDiscriminator<B>;
    type Data = AudioClip;
    type Losses = AudioLosses;

    fn unit(&self) -> &'static str {
        "clips"
    }

    fn seed_step(&self, generator: &AudioCodec<B, Q>, seed: u64) {
        generator.reseed_dropout(seed);
    }

    fn batch_len(&self, batch: &AudioBatch) -> usize {
        batch.shape[0]
    }

    fn shard_step(
        &self,
        codec: &AudioCodec<B, Q>,
        discriminator: &AudioDiscriminator<B>,
        batch: &AudioBatch,
        examples: Range<usize>,
        weight: f64,
        device: &B::Device,
        forked: bool,
        usage: &mut CodebookUsage,
    ) -> Result<ShardStep<AudioLosses>> {
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
        let [generator_loss, mel, gan, feature_matching, commitment, discriminator_loss] =
            scalars([
                g.total,
                g.mel,
                g.adversarial,
                g.feature_matching,
                g.commitment,
                d_loss,
            ]);
        Ok(ShardStep {
            generator,
            discriminator: discriminator_grads,
            losses: AudioLosses {
                generator: generator_loss,
                mel,
                gan,
                feature_matching,
                commitment,
                discriminator: discriminator_loss,
            },
        })
    }

    fn latents(
        &self,
        codec: &AudioCodec<B, Q>,
        batch: &AudioBatch,
        device: &B::Device,
    ) -> Result<Tensor<B, 2>> {
        Ok(codec.latents(wave_tensor(batch, device))?.detach())
    }

    fn init_encoder_from_data(
        &self,
        codec: AudioCodec<B, Q>,
        batches: &[AudioBatch],
        device: &B::Device,
    ) -> Result<AudioCodec<B, Q>> {
        let waves = batches.iter().map(|b| wave_tensor(b, device)).collect();
        Ok(codec.init_encoder_from_data(Tensor::cat(waves, 0))?)
    }

    fn fit_codebook(
        &self,
        mut codec: AudioCodec<B, Q>,
        latents: Tensor<B, 2>,
        rate: f64,
    ) -> Result<AudioCodec<B, Q>> {
        codec.quantizer = codec.quantizer.move_towards_latents(latents, rate)?;
        Ok(codec)
    }
}

/// The whole of `batch` as a `[batch, samples]` waveform tensor on `device`.
fn wave_tensor<B: AutodiffBackend>(batch: &AudioBatch, device: &B::Device) -> Tensor<B, 2> {
    Tensor::from_data(TensorData::new(batch.samples.clone(), batch.shape), device)
}
