//! One training step of the audio codec and its discriminators outside the run loop, for
//! custom loops and for checking the step against the reference's: the run loop takes the
//! same step (the same `GanTask::shard_step`, the same Adam) on each device's shard.

use burn::tensor::backend::AutodiffBackend;
use simvq_audio::{AudioCodec, AudioDiscriminator};
use simvq_data::AudioBatch;
use simvq_quant::CodebookUsage;

use crate::audio_config::AudioTrainConfig;
use crate::audio_task::{AudioLosses, AudioTask};
use crate::error::Result;
use crate::gan_step::GanStep;

/// The optimizers and loss of audio training, stepped one batch at a time.
pub struct AudioStep<B: AutodiffBackend>(GanStep<B, AudioTask<B>>);

impl<B: AutodiffBackend> AudioStep<B> {
    /// Fresh Adam states for the codec and the discriminators of `config`, its loss on
    /// `device`.
    pub fn new(config: &AudioTrainConfig, device: &B::Device) -> Self {
        Self(GanStep::new(
            AudioTask::new(config, device),
            &config.optimizer,
            config.schedule.steps,
            config.codebook_size(),
        ))
    }

    /// One codec and one discriminator update on `batch` (the whole batch on `device`): both
    /// after it, and the losses before it. Dropout draws the masks its last seed gives.
    pub fn step(
        &mut self,
        codec: AudioCodec<B>,
        discriminator: AudioDiscriminator<B>,
        batch: &AudioBatch,
        device: &B::Device,
    ) -> Result<(AudioCodec<B>, AudioDiscriminator<B>, AudioLosses)> {
        self.0.step(codec, discriminator, batch, device)
    }

    /// Codebook use over every step so far.
    pub fn usage(&self) -> &CodebookUsage {
        self.0.usage()
    }
}
