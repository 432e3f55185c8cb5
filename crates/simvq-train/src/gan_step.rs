//! One generator and one discriminator update outside the run loop, for any [`GanTask`]: the
//! same `shard_step` and the same Adam as each step of a run, one batch at a time. The public
//! faces are [`ImageStep`](crate::ImageStep) and [`AudioStep`](crate::AudioStep); the task
//! trait itself stays private to the crate.

use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{Adam, Optimizer};
use burn::tensor::backend::AutodiffBackend;
use simvq_quant::{autodiff_lock, CodebookUsage};

use crate::error::Result;
use crate::optimizer::OptimizerSettings;
use crate::task::{BatchOf, GanTask};

/// A task's step with its two optimizers' states.
pub(crate) struct GanStep<B: AutodiffBackend, T: GanTask<B>> {
    task: T,
    optimizer: OptimizerSettings,
    optim_g: OptimizerAdaptor<Adam, T::Generator, B>,
    optim_d: OptimizerAdaptor<Adam, T::Discriminator, B>,
    steps: usize,
    /// The run length the learning-rate schedule spans (`schedule.steps`).
    total_steps: usize,
    usage: CodebookUsage,
}

impl<B: AutodiffBackend, T: GanTask<B>> GanStep<B, T> {
    /// Fresh Adam states for both networks; `total_steps` is the span of the learning-rate
    /// schedule, `codebook_size` what the usage counts.
    pub(crate) fn new(
        task: T,
        optimizer: &OptimizerSettings,
        total_steps: usize,
        codebook_size: usize,
    ) -> Self {
        let adam = optimizer.adam();
        Self {
            task,
            optimizer: optimizer.clone(),
            optim_g: adam.init(),
            optim_d: adam.init(),
            steps: 0,
            total_steps,
            usage: CodebookUsage::new(codebook_size),
        }
    }

    /// One generator and one discriminator update on all of `batch` on `device`: both
    /// networks after it, and the losses before it.
    pub(crate) fn step(
        &mut self,
        generator: T::Generator,
        discriminator: T::Discriminator,
        batch: &BatchOf<B, T>,
        device: &B::Device,
    ) -> Result<(T::Generator, T::Discriminator, T::Losses)> {
        let _autodiff = autodiff_lock();
        let examples = 0..self.task.batch_len(batch);
        let shard = self.task.shard_step(
            &generator,
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
        let generator = self.optim_g.step(lr, generator, shard.generator);
        let discriminator = self.optim_d.step(lr, discriminator, shard.discriminator);
        Ok((generator, discriminator, shard.losses))
    }

    /// Codebook use over every step so far.
    pub(crate) fn usage(&self) -> &CodebookUsage {
        &self.usage
    }
}
