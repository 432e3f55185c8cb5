//! Data parallelism over the devices of one machine: each device takes a slice of the batch,
//! every loss weighted by its slice's share, so the summed gradients are those of the whole
//! batch's means; burn's multi-device optimizer step sums them on the device that owns each
//! parameter.

use burn::module::{AutodiffModule, Module};
use burn::optim::{GradientsParams, MultiGradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::backend::{Device as _, DeviceId, DeviceOps};
use simvq_quant::CodebookUsage;

use crate::error::Result;
use crate::loss_record::{LossRecord, TermSums};
use crate::run_state::Run;
use crate::task::{BatchOf, GanTask};

/// The devices a batch is spread over.
pub(crate) struct DataParallel<B: Backend> {
    devices: Vec<B::Device>,
}

impl<B: AutodiffBackend> DataParallel<B> {
    /// `count` devices of `device`'s kind, numbered from 0 (just `device` when `count` ≤ 1).
    pub(crate) fn new(device: &B::Device, count: usize) -> Self {
        if count <= 1 {
            return Self {
                devices: vec![device.clone()],
            };
        }
        let kind = device.id().type_id;
        let devices = (0..count)
            .map(|index| {
                B::Device::from_id(DeviceId {
                    type_id: kind,
                    index_id: index as u16,
                })
            })
            .collect();
        Self { devices }
    }

    /// Forward and backward passes of all of `batch`, a slice per device: the gradients of
    /// every slice, and the losses of the whole batch (the slices' losses weighted by their
    /// shares). Records the codes used in `usage`.
    pub(crate) fn gradients<T: GanTask<B>>(
        &self,
        task: &T,
        run: &Run<B, T>,
        batch: &BatchOf<B, T>,
        usage: &mut CodebookUsage,
    ) -> Result<(StepGradients, TermSums)> {
        let examples = task.batch_len(batch);
        let forked = self.devices.len() > 1;
        let mut grads = StepGradients::default();
        let mut losses = TermSums::default();
        let mut start = 0;
        for (device, size) in self
            .devices
            .iter()
            .zip(shard_sizes(examples, self.devices.len()))
        {
            let weight = size as f64 / examples as f64;
            let (generator, discriminator) = if forked {
                (
                    run.generator.clone().fork(device),
                    run.discriminator.clone().fork(device),
                )
            } else {
                (run.generator.clone(), run.discriminator.clone())
            };
            let shard = task.shard_step(
                &generator,
                &discriminator,
                batch,
                start..start + size,
                weight,
                device,
                forked,
                usage,
            )?;
            start += size;
            losses.add(shard.losses.terms(), weight);
            grads.generator.push((shard.generator, device.id()));
            grads.discriminator.push((shard.discriminator, device.id()));
        }
        Ok((grads, losses))
    }
}

/// Examples per device: as even as possible, larger slices first, no empty ones.
fn shard_sizes(examples: usize, devices: usize) -> Vec<usize> {
    let devices = devices.clamp(1, examples.max(1));
    (0..devices)
        .map(|i| examples / devices + usize::from(i < examples % devices))
        .collect()
}

/// The gradients of one step, per device.
#[derive(Default)]
pub(crate) struct StepGradients {
    generator: Vec<(GradientsParams, DeviceId)>,
    discriminator: Vec<(GradientsParams, DeviceId)>,
}

impl StepGradients {
    /// `run` after one optimizer step per network at learning rate `lr`.
    pub(crate) fn apply<B: AutodiffBackend, T: GanTask<B>>(
        self,
        lr: f64,
        mut run: Run<B, T>,
    ) -> Run<B, T> {
        run.generator = optimizer_step(lr, run.generator, &mut run.optim_g, self.generator);
        run.discriminator =
            optimizer_step(lr, run.discriminator, &mut run.optim_d, self.discriminator);
        run
    }
}

/// `module` after `optimizer`'s step on `grads`: the plain step on one device, the summing
/// multi-device step otherwise.
fn optimizer_step<B, M, O>(
    lr: f64,
    module: M,
    optimizer: &mut O,
    mut grads: Vec<(GradientsParams, DeviceId)>,
) -> M
where
    B: AutodiffBackend,
    M: AutodiffModule<B>,
    O: Optimizer<M, B>,
{
    if grads.len() == 1 {
        let (grads, _) = grads.pop().expect("one device");
        return optimizer.step(lr, module, grads);
    }
    optimizer.step_multi(lr, module, MultiGradientsParams { grads })
}

#[cfg(test)]
mod tests {
    use super::shard_sizes;

    #[test]
    fn shards_cover_the_batch_evenly_without_empty_ones() {
        assert_eq!(shard_sizes(7, 3), vec![3, 2, 2]);
        assert_eq!(shard_sizes(2, 4), vec![1, 1]);
        assert_eq!(shard_sizes(5, 1), vec![5]);
    }
}
