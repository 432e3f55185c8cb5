//! The image losses of the reference (taming's `VQLPIPSWithDiscriminator` as SimVQ configures
//! it): L1 + LPIPS + 0.1 × non-saturating GAN + 1.0 × commitment for the generator, hinge
//! for the discriminator.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::activation::{log_sigmoid, relu};
use burn::tensor::{backend::Backend, Tensor};
use simvq_quant::QuantLoss;

use simvq_metrics::Lpips;

/// Weights of the generator loss terms; defaults are the reference's.
#[derive(Config, Debug, PartialEq)]
pub struct ImageLossConfig {
    /// Weight of LPIPS-VGG. 0 trains without it (and without loading its weights).
    #[config(default = 1.0)]
    pub perceptual_weight: f64,
    /// Fixed weight of the non-saturating generator loss (the reference sets
    /// `gen_loss_weight`, which turns VQGAN's adaptive weight off).
    #[config(default = 0.1)]
    pub generator_weight: f64,
    /// Weight of the quantizer loss.
    #[config(default = 1.0)]
    pub commitment_weight: f64,
}

/// The generator objective and its terms (each `[1]`), for logging.
#[derive(Debug, Clone)]
pub struct GeneratorLoss<B: Backend> {
    /// What is back-propagated.
    pub total: Tensor<B, 1>,
    /// Mean absolute error.
    pub reconstruction: Tensor<B, 1>,
    /// Mean LPIPS (zero when disabled).
    pub perceptual: Tensor<B, 1>,
    /// Non-saturating generator loss, before weighting.
    pub adversarial: Tensor<B, 1>,
    /// Quantizer loss, before weighting.
    pub commitment: Tensor<B, 1>,
}

/// The generator loss with its frozen perceptual network.
#[derive(Module, Debug)]
pub struct ImageLoss<B: Backend> {
    lpips: Option<Lpips<B>>,
    perceptual_weight: f64,
    generator_weight: f64,
    commitment_weight: f64,
}

impl ImageLossConfig {
    /// The loss of `config`; `lpips` must be given when `perceptual_weight > 0`.
    pub fn init<B: Backend>(&self, lpips: Option<Lpips<B>>) -> ImageLoss<B> {
        let config = self;
        ImageLoss {
            lpips,
            perceptual_weight: config.perceptual_weight,
            generator_weight: config.generator_weight,
            commitment_weight: config.commitment_weight,
        }
    }
}

impl<B: Backend> ImageLoss<B> {
    /// Whether the generator's objective depends on the discriminator: not when the GAN
    /// term's weight is 0, so a step can skip the pass of the discriminator that only
    /// carried that term's (zero) gradient back to the generator.
    pub fn has_adversarial_term(&self) -> bool {
        self.generator_weight != 0.0
    }

    /// Generator loss of reconstructions `x̂` of `x` (`[B, 3, H, W]`), given the
    /// discriminator's patch logits on `x̂` and the quantizer loss.
    pub fn generator(
        &self,
        x: Tensor<B, 4>,
        x_hat: Tensor<B, 4>,
        logits_fake: Tensor<B, 4>,
        quant: &QuantLoss<B>,
    ) -> GeneratorLoss<B> {
        let device = x.device();
        let reconstruction = (x.clone() - x_hat.clone()).abs().mean().reshape([1]);
        let perceptual = match (&self.lpips, self.perceptual_weight > 0.0) {
            (Some(lpips), true) => lpips.forward(x, x_hat).mean().reshape([1]),
            _ => Tensor::zeros([1], &device),
        };
        let adversarial = non_saturating_generator_loss(logits_fake);
        let commitment = quant.total();
        let total = reconstruction.clone()
            + perceptual.clone() * self.perceptual_weight
            + adversarial.clone() * self.generator_weight
            + commitment.clone() * self.commitment_weight;
        GeneratorLoss {
            total,
            reconstruction,
            perceptual,
            adversarial,
            commitment,
        }
    }
}

/// `mean_b softplus(−mean_patches D(x̂))`: the non-saturating GAN loss on per-image mean logits
/// (the reference's `binary_cross_entropy_with_logits` against ones).
///
/// Computed as `−log σ(m)`: burn's `softplus` is `ln(eˣ + 1)`, which overflows to ∞ in f32 for
/// a mean logit below about −88; burn's `log_sigmoid` is the stable log-sum-exp form, with a
/// backward pass to match.
pub fn non_saturating_generator_loss<B: Backend>(logits_fake: Tensor<B, 4>) -> Tensor<B, 1> {
    let [b, _, _, _] = logits_fake.dims();
    let per_image = logits_fake.reshape([b as i32, -1]).mean_dim(1);
    log_sigmoid(per_image).neg().mean().reshape([1])
}

/// Hinge loss `½·(mean relu(1 − D(x)) + mean relu(1 + D(x̂)))`.
pub fn discriminator_hinge_loss<B: Backend>(
    logits_real: Tensor<B, 4>,
    logits_fake: Tensor<B, 4>,
) -> Tensor<B, 1> {
    let real = relu(logits_real.neg().add_scalar(1.0)).mean();
    let fake = relu(logits_fake.add_scalar(1.0)).mean();
    ((real + fake) * 0.5).reshape([1])
}
