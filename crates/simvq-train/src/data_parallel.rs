//! Data parallelism over the devices of one machine: each device takes a slice of the batch,
//! every loss weighted by its slice's share, so the summed gradients are those of the whole
//! batch's means; burn's multi-device optimizer step sums them on the device that owns each
//! parameter. Across the processes of a multi-node run (one device each), every node steps
//! its own slice of the batch and the nodes' gradients, losses and example counts are summed
//! in one exchange ([`Cluster`]), so every node takes the same optimizer step.

use burn::module::{AutodiffModule, Module};
use burn::optim::{GradientsParams, MultiGradientsParams, Optimizer};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::backend::{Device as _, DeviceId, DeviceOps};
use burn::tensor::{ElementConversion, Tensor};
use simvq_quant::CodebookUsage;

use crate::cluster::Cluster;
use crate::error::{Result, TrainError};
use crate::flat_buffer::{flatten_gradients, unflatten_gradients};
use crate::loss_record::{LossRecord, TermSums};
use crate::run_state::Run;
use crate::task::{BatchOf, GanTask};

type Inner<B> = <B as AutodiffBackend>::InnerBackend;

/// The devices a batch is spread over, and the other nodes when there are.
pub(crate) struct DataParallel<B: AutodiffBackend> {
    devices: Vec<B::Device>,
    cluster: Option<Cluster<Inner<B>>>,
}

impl<B: AutodiffBackend> DataParallel<B> {
    /// `count` devices of `device`'s kind, numbered from 0 (just `device` when `count` ≤ 1),
    /// in this process, which is one node of `cluster` when given.
    pub(crate) fn new(
        device: &B::Device,
        count: usize,
        cluster: Option<Cluster<Inner<B>>>,
    ) -> Result<Self> {
        if count <= 1 {
            return Ok(Self {
                devices: vec![device.clone()],
                cluster,
            });
        }
        if cluster.is_some() {
            return Err(TrainError::Cluster(
                "--devices > 1 with --nodes > 1 is not supported: run one process (node) per \
                 device"
                    .into(),
            ));
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
        Ok(Self {
            devices,
            cluster: None,
        })
    }

    /// The other nodes of a multi-node run.
    pub(crate) fn cluster(&self) -> Option<&Cluster<Inner<B>>> {
        self.cluster.as_ref()
    }

    /// Forward and backward passes of all of `batch`, a slice per device: the gradients of
    /// every slice, the losses of the whole batch (the slices' losses weighted by their
    /// shares) and its size; in a multi-node run, those of every node's batch together.
    /// Records the codes used in `usage`.
    pub(crate) fn gradients<T: GanTask<B>>(
        &self,
        task: &T,
        run: &Run<B, T>,
        batch: &BatchOf<B, T>,
        usage: &mut CodebookUsage,
    ) -> Result<(StepGradients, TermSums, usize)> {
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
        match &self.cluster {
            Some(cluster) => grads.sum_over_nodes(cluster, run, &losses, examples),
            None => Ok((grads, losses, examples)),
        }
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
    /// The gradients, losses and example count of every node's batch together: this node's
    /// (one device's) scaled by its example count, summed over the nodes in one exchange,
    /// divided by the total; the same on every node.
    fn sum_over_nodes<B: AutodiffBackend, T: GanTask<B>>(
        mut self,
        cluster: &Cluster<Inner<B>>,
        run: &Run<B, T>,
        losses: &TermSums,
        examples: usize,
    ) -> Result<(Self, TermSums, usize)> {
        let (generator, g_device) = self.generator.pop().expect("one device per node");
        let (discriminator, d_device) = self.discriminator.pop().expect("one device per node");
        let (g_flat, g_layout) = flatten_gradients(&run.generator, generator);
        let (d_flat, d_layout) = flatten_gradients(&run.discriminator, discriminator);
        let terms: Vec<(&str, f64)> = losses.means(1).collect();
        let mut tail: Vec<f32> = terms.iter().map(|&(_, v)| v as f32).collect();
        tail.push(1.0);
        let tail = Tensor::from_floats(tail.as_slice(), &g_flat.device());
        let (g_len, d_len) = (g_layout.len(), d_layout.len());
        let buffer = Tensor::cat(vec![g_flat, d_flat, tail], 0).mul_scalar(examples as f32);
        let summed = cluster.sum(buffer, "summing the step's gradients")?;
        let total = summed
            .clone()
            .slice(summed.dims()[0] - 1..)
            .into_scalar()
            .elem::<f32>();
        let summed = summed.div_scalar(total);
        let part = |range: std::ops::Range<usize>| summed.clone().slice(range);
        self.generator.push((
            unflatten_gradients(&run.generator, &g_layout, part(0..g_len)),
            g_device,
        ));
        self.discriminator.push((
            unflatten_gradients(&run.discriminator, &d_layout, part(g_len..g_len + d_len)),
            d_device,
        ));
        let values: Vec<f32> = part(g_len + d_len..g_len + d_len + terms.len())
            .into_data()
            .convert::<f32>()
            .to_vec()
            .expect("f32 data");
        let mut all = TermSums::default();
        all.add(
            terms
                .iter()
                .zip(values)
                .map(|(&(name, _), v)| (name, f64::from(v))),
            1.0,
        );
        Ok((self, all, total.round() as usize))
    }

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
