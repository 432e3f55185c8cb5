//! One training step of the image tokenizer and its discriminator outside the run loop, for
//! custom loops and for checking the step against the reference's: the run loop takes the
//! same step (the same `GanTask::shard_step`, the same Adam) on each device's shard.

use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{Adam, Optimizer};
use burn::tensor::backend::AutodiffBackend;
use simvq_data::ImageBatch;
use simvq_image::{ImageTokenizer, PatchDiscriminator};
use simvq_metrics::Lpips;
use simvq_quant::CodebookUsage;

use crate::error::Result;
use crate::gan_loop::GanTask;
use crate::image_config::ImageTrainConfig;
use crate::image_trainer::ImageTask;
use crate::optimizer::OptimizerSettings;

/// The optimizers and loss of image training, stepped one batch at a time.
pub struct ImageStep<B: AutodiffBackend> {
    task: ImageTask<B>,
    optimizer: OptimizerSettings,
    optim_g: OptimizerAdaptor<Adam, ImageTokenizer<B>, B>,
    optim_d: OptimizerAdaptor<Adam, PatchDiscriminator<B>, B>,
    steps: usize,
    /// The run length the learning-rate schedule spans (`schedule.steps`).
    total_steps: usize,
    usage: CodebookUsage,
}

impl<B: AutodiffBackend> ImageStep<B> {
    /// Fresh Adam states for both networks of `config`; `lpips` when its perceptual weight is
    /// not 0.
    pub fn new(config: &ImageTrainConfig, lpips: Option<Lpips<B>>) -> Self {
        let adam = config.optimizer.adam();
        Self {
            task: ImageTask::new(config, lpips),
            optimizer: config.optimizer.clone(),
            optim_g: adam.init(),
            optim_d: adam.init(),
            steps: 0,
            total_steps: config.schedule.steps,
            usage: CodebookUsage::new(config.model.quantizer.codebook_size),
        }
    }

    /// One generator and one discriminator update on `batch` (the whole batch on `device`):
    /// both networks after it, and the losses (generator total, L1, LPIPS, GAN, commitment,
    /// discriminator) before it.
    pub fn step(
        &mut self,
        model: ImageTokenizer<B>,
        discriminator: PatchDiscriminator<B>,
        batch: &ImageBatch,
        device: &B::Device,
    ) -> Result<(ImageTokenizer<B>, PatchDiscriminator<B>, Vec<f64>)> {
        let examples = 0..self.task.batch_len(batch);
        let shard = self.task.shard_step(
            &model,
            &discriminator,
            batch,
            examples,
            1.0,
            device,
            false,
            &mut self.usage,
        )?;
        let lr = self
            .optimizer
            .learning_rate_at(self.steps, self.total_steps);
        self.steps += 1;
        let model = self.optim_g.step(lr, model, shard.generator);
        let discriminator = self.optim_d.step(lr, discriminator, shard.discriminator);
        Ok((model, discriminator, shard.losses))
    }

    /// Codebook use over every step so far.
    pub fn usage(&self) -> &CodebookUsage {
        &self.usage
    }
}
