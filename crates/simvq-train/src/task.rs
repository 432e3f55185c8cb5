//! What a modality (images, audio) supplies to the shared GAN loop: how a shard of a batch
//! becomes losses and gradients, and the hooks of the data-dependent inits.

use std::ops::Range;

use burn::module::AutodiffModule;
use burn::optim::GradientsParams;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Tensor;
use simvq_data::Example;
use simvq_quant::CodebookUsage;

use crate::error::Result;
use crate::loss_record::LossRecord;

/// One device's share of a step.
pub(crate) struct ShardStep<L> {
    /// Gradients of the generator's parameters (from the generator loss only).
    pub generator: GradientsParams,
    /// Gradients of the discriminator's parameters (from its loss on detached outputs).
    pub discriminator: GradientsParams,
    /// The shard's loss values (unweighted).
    pub losses: L,
}

/// A batch of a task's data.
pub(crate) type BatchOf<B, T> = <<T as GanTask<B>>::Data as Example>::Batch;

/// A task's generator without autodiff (what the EMA holds and the evaluation reads).
pub(crate) type InnerOf<B, T> = <<T as GanTask<B>>::Generator as AutodiffModule<B>>::InnerModule;

/// A modality's part of a run: how a shard of a batch becomes gradients.
pub(crate) trait GanTask<B: AutodiffBackend> {
    /// The tokenizer.
    type Generator: AutodiffModule<B> + Clone + 'static;
    /// Its discriminator(s), one module.
    type Discriminator: AutodiffModule<B> + Clone + 'static;
    /// How files become examples.
    type Data: Example;
    /// The losses a step reports.
    type Losses: LossRecord;

    /// What the throughput counts ("img", "clips").
    fn unit(&self) -> &'static str;

    /// Seeds the generator's own random draws (dropout masks) for one step, so that they
    /// depend on the run's seed and the step alone and a resumed run replays them.
    fn seed_step(&self, generator: &Self::Generator, seed: u64);

    /// Examples in a batch.
    fn batch_len(&self, batch: &BatchOf<B, Self>) -> usize;

    /// Forward and backward passes for `examples` of `batch` on `device`, every loss scaled by
    /// `weight` (the shard's share of the batch) before backward; `forked` says the modules
    /// were moved to `device`, so the task's own modules (loss networks) must be too. Records
    /// the codes used in `usage`.
    #[allow(clippy::too_many_arguments)]
    fn shard_step(
        &self,
        generator: &Self::Generator,
        discriminator: &Self::Discriminator,
        batch: &BatchOf<B, Self>,
        examples: Range<usize>,
        weight: f64,
        device: &B::Device,
        forked: bool,
        usage: &mut CodebookUsage,
    ) -> Result<ShardStep<Self::Losses>>;

    /// The generator's latents before quantization for all of `batch`, `[tokens, D]`
    /// (what [`CodebookInit::Data`](crate::CodebookInit::Data) fits the codebook to).
    fn latents(
        &self,
        generator: &Self::Generator,
        batch: &BatchOf<B, Self>,
        device: &B::Device,
    ) -> Result<Tensor<B, 2>>;

    /// `generator` with its encoder initialised from the training clips of `batches`
    /// ([`EncoderInit::Data`](crate::EncoderInit::Data)); an error for a task whose encoder
    /// has no such init.
    fn init_encoder_from_data(
        &self,
        generator: Self::Generator,
        batches: &[BatchOf<B, Self>],
        device: &B::Device,
    ) -> Result<Self::Generator>;

    /// `generator` with its SimVQ projection moved a fraction `rate` of the way to the fit
    /// of `latents` (`SimVq::move_towards_latents`; 1 = replaced by it).
    fn fit_codebook(
        &self,
        generator: Self::Generator,
        latents: Tensor<B, 2>,
        rate: f64,
    ) -> Result<Self::Generator>;
}

/// Host values of `[1]` loss tensors, in one transfer.
pub(crate) fn scalars<B: AutodiffBackend, const N: usize>(losses: [Tensor<B, 1>; N]) -> [f64; N] {
    let all = Tensor::cat(losses.into_iter().map(|t| t.detach()).collect(), 0);
    let values: Vec<f32> = all.into_data().convert::<f32>().to_vec().expect("f32 data");
    std::array::from_fn(|i| f64::from(values[i]))
}
