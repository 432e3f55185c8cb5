//! The image tokenizer's training step: L1 + LPIPS + non-saturating GAN + commitment for the
//! generator, hinge for the PatchGAN, on one device's shard of a batch.

use std::marker::PhantomData;
use std::ops::Range;

use burn::module::Module;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Tensor;
use serde::Serialize;
use simvq_data::{ImageBatch, ImageTransform};
use simvq_image::{
    discriminator_hinge_loss, non_saturating_generator_loss, ImageLoss, ImageTokenizer,
    PatchDiscriminator,
};
use simvq_metrics::Lpips;
use simvq_quant::{CodebookUsage, SimVq};

use crate::error::{Result, TrainError};
use crate::gradients::module_gradients;
use crate::image_config::ImageTrainConfig;
use crate::image_report::batch_tensor;
use crate::loss_record::LossRecord;
use crate::task::{scalars, GanTask, ShardStep};
use crate::trainable_quantizer::TrainableQuantizer;

/// The losses of an image step (each unweighted, before the step's update).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ImageLosses {
    /// The generator's objective: `l1` + the `loss.*_weight`-weighted `lpips`, `gan` and
    /// `commitment`.
    pub generator: f64,
    /// Mean absolute pixel error.
    pub l1: f64,
    /// LPIPS (0 when its weight is 0).
    pub lpips: f64,
    /// Non-saturating GAN loss of the reconstructions.
    pub gan: f64,
    /// The quantizer's commitment loss.
    pub commitment: f64,
    /// The PatchGAN's hinge loss.
    pub discriminator: f64,
}

impl LossRecord for ImageLosses {
    const RECONSTRUCTION: &'static str = "l1";

    fn terms(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("generator", self.generator),
            ("l1", self.l1),
            ("lpips", self.lpips),
            ("gan", self.gan),
            ("commitment", self.commitment),
            ("discriminator", self.discriminator),
        ]
    }
}

/// The image tokenizer's step, for a tokenizer quantizing with `Q`.
pub(crate) struct ImageTask<B: AutodiffBackend, Q = SimVq<B>> {
    loss: ImageLoss<B>,
    /// With `reference_exact`: the weight of the generator's GAN loss, whose gradient with
    /// respect to D the reference adds to D's step.
    leak: Option<f64>,
    quantizer: PhantomData<Q>,
}

impl<B: AutodiffBackend, Q> ImageTask<B, Q> {
    /// The step of `config`; `lpips` when its perceptual weight is not 0.
    pub(crate) fn new(config: &ImageTrainConfig, lpips: Option<Lpips<B>>) -> Self {
        Self {
            loss: config.loss.init(lpips),
            leak: config
                .reference_exact
                .then_some(config.loss.generator_weight),
            quantizer: PhantomData,
        }
    }
}

impl<B: AutodiffBackend, Q: TrainableQuantizer<B>> GanTask<B> for ImageTask<B, Q> {
    type Generator = ImageTokenizer<B, Q>;
    type Discriminator = PatchDiscriminator<B>;
    type Data = ImageTransform;
    type Losses = ImageLosses;

    fn unit(&self) -> &'static str {
        "img"
    }

    /// The tokenizer draws nothing at random during a step (no dropout).
    fn seed_step(&self, _generator: &ImageTokenizer<B, Q>, _seed: u64) {}

    fn batch_len(&self, batch: &ImageBatch) -> usize {
        batch.shape[0]
    }

    fn shard_step(
        &self,
        model: &ImageTokenizer<B, Q>,
        discriminator: &PatchDiscriminator<B>,
        batch: &ImageBatch,
        examples: Range<usize>,
        weight: f64,
        device: &B::Device,
        forked: bool,
        usage: &mut CodebookUsage,
    ) -> Result<ShardStep<ImageLosses>> {
        let [_, c, h, w] = batch.shape;
        let per_image = c * h * w;
        let pixels = batch.pixels[examples.start * per_image..examples.end * per_image].to_vec();
        let x = batch_tensor::<B>(pixels, [examples.len(), c, h, w], device);
        let loss = if forked {
            self.loss.clone().fork(device)
        } else {
            self.loss.clone()
        };

        // Generator: its gradients only for its own parameters. Without a GAN term (weight
        // 0) its loss reads, for logging, the logits of the discriminator's own pass on the
        // detached reconstructions: the same values, without a pass whose gradient is 0 · ∂.
        let out = model.forward(x.clone())?;
        let detached_first = (!loss.has_adversarial_term())
            .then(|| discriminator.forward(out.reconstruction.clone().detach()));
        let logits_for_generator = match &detached_first {
            Some(logits) => logits.clone().detach(),
            None => discriminator.forward(out.reconstruction.clone()),
        };
        let g = loss.generator(
            x.clone(),
            out.reconstruction.clone(),
            logits_for_generator,
            &out.quant_loss,
        );
        let mut grads = (g.total.clone() * weight).backward();
        let generator = module_gradients(&mut grads, model);

        // Discriminator on the same reconstructions, detached: one simultaneous step equals
        // the reference's alternating steps. With `reference_exact` its step also gets the
        // generator's GAN loss's gradient w.r.t. D, as the reference's, whose
        // `opt_gen.zero_grad()` leaves D's gradients in place: the same D on the same images
        // gives the same logits, so that gradient is taken here from D's own pass.
        let logits_real = discriminator.forward(x);
        let logits_fake =
            detached_first.unwrap_or_else(|| discriminator.forward(out.reconstruction.detach()));
        let d_loss = discriminator_hinge_loss(logits_real, logits_fake.clone());
        let d_objective = match self.leak {
            Some(w) => d_loss.clone() + non_saturating_generator_loss(logits_fake) * w,
            None => d_loss.clone(),
        };
        let mut grads = (d_objective * weight).backward();
        let discriminator_grads = module_gradients(&mut grads, discriminator);

        usage.update(&out.indices)?;
        let [generator_loss, l1, lpips, gan, commitment, discriminator_loss] = scalars([
            g.total,
            g.reconstruction,
            g.perceptual,
            g.adversarial,
            g.commitment,
            d_loss,
        ]);
        Ok(ShardStep {
            generator,
            discriminator: discriminator_grads,
            losses: ImageLosses {
                generator: generator_loss,
                l1,
                lpips,
                gan,
                commitment,
                discriminator: discriminator_loss,
            },
        })
    }

    fn latents(
        &self,
        model: &ImageTokenizer<B, Q>,
        batch: &ImageBatch,
        device: &B::Device,
    ) -> Result<Tensor<B, 2>> {
        let x = batch_tensor::<B>(batch.pixels.clone(), batch.shape, device);
        Ok(model.latents(x)?.detach())
    }

    fn init_encoder_from_data(
        &self,
        _model: ImageTokenizer<B, Q>,
        _batches: &[ImageBatch],
        _device: &B::Device,
    ) -> Result<ImageTokenizer<B, Q>> {
        Err(TrainError::Image(simvq_image::ImageError::InvalidConfig(
            "schedule.encoder_init = \"data\" is for the audio codec's weight-normalised \
             encoder; the image encoder normalises its activations (GroupNorm) already. Remove \
             the key or set it to \"random\""
                .into(),
        )))
    }

    fn fit_codebook(
        &self,
        mut model: ImageTokenizer<B, Q>,
        latents: Tensor<B, 2>,
        rate: f64,
    ) -> Result<ImageTokenizer<B, Q>> {
        model.quantizer = model.quantizer.move_towards_latents(latents, rate)?;
        Ok(model)
    }
}
