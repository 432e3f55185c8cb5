//! One training step of the image tokenizer and its discriminator outside the run loop, for
//! custom loops and for checking the step against the reference's: the run loop takes the
//! same step (the same `GanTask::shard_step`, the same Adam) on each device's shard.

use burn::tensor::backend::AutodiffBackend;
use simvq_data::ImageBatch;
use simvq_image::{ImageTokenizer, PatchDiscriminator};
use simvq_metrics::Lpips;
use simvq_quant::CodebookUsage;

use crate::error::Result;
use crate::gan_step::GanStep;
use crate::image_config::ImageTrainConfig;
use crate::image_task::{ImageLosses, ImageTask};

/// The optimizers and loss of image training, stepped one batch at a time.
pub struct ImageStep<B: AutodiffBackend>(GanStep<B, ImageTask<B>>);

impl<B: AutodiffBackend> ImageStep<B> {
    /// Fresh Adam states for both networks of `config`; `lpips` when its perceptual weight is
    /// not 0.
    pub fn new(config: &ImageTrainConfig, lpips: Option<Lpips<B>>) -> Self {
        Self(GanStep::new(
            ImageTask::new(config, lpips),
            &config.optimizer,
            config.schedule.steps,
            config.model.quantizer.codebook_size,
        ))
    }

    /// One generator and one discriminator update on `batch` (the whole batch on `device`):
    /// both networks after it, and the losses before it.
    pub fn step(
        &mut self,
        model: ImageTokenizer<B>,
        discriminator: PatchDiscriminator<B>,
        batch: &ImageBatch,
        device: &B::Device,
    ) -> Result<(ImageTokenizer<B>, PatchDiscriminator<B>, ImageLosses)> {
        self.0.step(model, discriminator, batch, device)
    }

    /// Codebook use over every step so far.
    pub fn usage(&self) -> &CodebookUsage {
        self.0.usage()
    }
}
