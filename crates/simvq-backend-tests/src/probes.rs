//! The passes compared across backends. Each one is generic over the backend and returns
//! every value it computed: outputs, losses, indices and the gradient of every parameter.

use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData};
use simvq_audio::{audio_discriminator_loss, AudioCodecConfig, AudioDiscriminatorConfig};
use simvq_data::{AudioBatch, ImageBatch};
use simvq_image::PatchDiscriminatorConfig;
use simvq_image::{discriminator_hinge_loss, ImageLossConfig, ImageTokenizerConfig};
use simvq_quant::{SeededInit, SimVqConfig};
use simvq_testkit::closed_form;
use simvq_train::{AudioStep, ImageStep, ImageTrainConfig, LossRecord};

use crate::values::Values;

/// A closed-form tensor of `shape` (the `tools/` scripts' inputs), values in about ±`scale`.
pub(crate) fn input<B: Backend, const D: usize>(
    shape: [usize; D],
    salt: f64,
    scale: f64,
    device: &B::Device,
) -> Tensor<B, D> {
    let values = closed_form(shape.iter().product(), salt, scale, 0.0);
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// The demo image tokenizer made small, with its PatchGAN: reconstruction, indices, patch
/// logits, the generator and discriminator losses, and every gradient of both networks.
pub fn image_pass<B: AutodiffBackend>(device: &B::Device) -> Values {
    let _autodiff = simvq_quant::autodiff_lock();
    let config = small_image_config();
    let init = SeededInit::<B>::new(11, device);
    let tokenizer = config.model.init_seeded(&init).expect("valid config");
    let discriminator = config.discriminator.init_seeded(&init);
    let loss = ImageLossConfig::new()
        .with_perceptual_weight(0.0)
        .init::<B>(None);
    let images = input::<B, 4>([2, 3, 16, 16], 4.0, 1.0, device);
    let out = tokenizer.forward(images.clone()).expect("valid input");
    let logits_fake = discriminator.forward(out.reconstruction.clone());
    let generator = loss.generator(
        images.clone(),
        out.reconstruction.clone(),
        logits_fake.clone(),
        &out.quant_loss,
    );
    let logits_real = discriminator.forward(images);
    let d_loss = discriminator_hinge_loss(logits_real, logits_fake);
    let grads = (generator.total.clone() + d_loss.clone()).backward();
    let mut values = Values::default();
    values.float("reconstruction", &out.reconstruction);
    values.int("indices", &out.indices);
    values.float("generator loss", &generator.total);
    values.float("discriminator loss", &d_loss);
    values.gradients("grad tokenizer", &tokenizer, &grads);
    values.gradients("grad discriminator", &discriminator, &grads);
    values
}

/// Two `ImageStep`s (forward, backward, both Adam updates) from seeded weights: the losses of
/// each and every weight of both networks after them. The learning rate is small (1e-5):
/// Adam's first updates are about `lr · sign(g)`, so a gradient that is zero up to rounding
/// may move a weight by ±lr on either backend, and that must stay inside the tolerance.
pub fn image_training_step<B: AutodiffBackend>(device: &B::Device) -> Values {
    let mut config = small_image_config();
    config.optimizer.learning_rate = 1e-5;
    let init = SeededInit::<B>::new(12, device);
    let mut tokenizer = config.model.init_seeded(&init).expect("valid config");
    let mut discriminator = config.discriminator.init_seeded(&init);
    let mut step = ImageStep::<B>::new(&config, None);
    let mut values = Values::default();
    for (i, salt) in [5.0, 6.0].into_iter().enumerate() {
        let batch = ImageBatch {
            pixels: closed_form(2 * 3 * 16 * 16, salt, 1.0, 0.0),
            shape: [2, 3, 16, 16],
            paths: Vec::new(),
        };
        let losses;
        (tokenizer, discriminator, losses) = step
            .step(tokenizer, discriminator, &batch, device)
            .expect("a finite step");
        values.host(
            &format!("losses of step {i}"),
            losses.terms().into_iter().map(|(_, v)| v).collect(),
        );
    }
    values.weights("tokenizer after", &tokenizer);
    values.weights("discriminator after", &discriminator);
    values
}

/// The demo config, narrow: f2, 8-d codes, 64 codes, a 2-layer PatchGAN, the GAN term on.
fn small_image_config() -> ImageTrainConfig {
    let mut config = ImageTrainConfig::demo();
    config.model = ImageTokenizerConfig::new(
        config
            .model
            .autoencoder
            .clone()
            .with_channels(32)
            .with_channel_multipliers(vec![1, 2])
            .with_z_channels(8),
        SimVqConfig::new()
            .with_codebook_size(64)
            .with_dim(8)
            .with_seed(4),
    );
    config.discriminator = PatchDiscriminatorConfig::new()
        .with_base_channels(8)
        .with_layers(2);
    config.loss.generator_weight = 0.1;
    config
}

/// The audio demo codec made small, with the three discriminators: reconstruction, indices,
/// the generator objective (mel, hinge, feature matching, commitment) and the discriminator
/// objective, and every gradient of both. The pos_net dropout is on: its masks are drawn on
/// the host, so both backends drop the same elements.
pub fn audio_pass<B: AutodiffBackend>(device: &B::Device) -> Values {
    let _autodiff = simvq_quant::autodiff_lock();
    let config = simvq_train::AudioTrainConfig::demo();
    let model: AudioCodecConfig = config.model.clone();
    let discriminator: AudioDiscriminatorConfig = config.discriminator.clone().with_use_dac(true);
    let init = SeededInit::<B>::new(13, device);
    let codec = model.init_seeded(&init).expect("valid config");
    let discriminator = discriminator.init_seeded(&init);
    let loss = config.loss.init::<B>(device);
    codec.reseed_dropout(3);
    let wave = input::<B, 2>([2, 3200], 6.0, 0.5, device);
    let out = codec.forward(wave.clone()).expect("valid input");
    let real = discriminator.forward(wave.clone());
    let fake = discriminator.forward(out.reconstruction.clone());
    let generator = loss.generator(
        wave,
        out.reconstruction.clone(),
        &real,
        &fake,
        &out.quant_loss,
    );
    let d_loss = audio_discriminator_loss(&real, &fake, loss.mrd_weight());
    let grads = (generator.total.clone() + d_loss.clone()).backward();
    let mut values = Values::default();
    values.float("reconstruction", &out.reconstruction);
    values.int("indices", &out.indices);
    values.float("mel loss", &generator.mel);
    values.float("generator loss", &generator.total);
    values.float("discriminator loss", &d_loss);
    values.gradients("grad codec", &codec, &grads);
    values.gradients("grad discriminators", &discriminator, &grads);
    values
}

/// Two `AudioStep`s of the demo codec (forward, backward, both Adam updates, dropout on with
/// host-drawn masks): the losses of each and every weight of the codec and the three
/// discriminators after them. The learning rate is small for the reason given at
/// [`image_training_step`].
pub fn audio_training_step<B: AutodiffBackend>(device: &B::Device) -> Values {
    let mut config = simvq_train::AudioTrainConfig::demo();
    config.optimizer.learning_rate = 1e-5;
    config.discriminator = config.discriminator.with_use_dac(true);
    let init = SeededInit::<B>::new(14, device);
    let mut codec = config.model.init_seeded(&init).expect("valid config");
    let mut discriminator = config.discriminator.init_seeded(&init);
    codec.reseed_dropout(4);
    let mut step = AudioStep::<B>::new(&config, device);
    let mut values = Values::default();
    for (i, salt) in [12.0, 13.0].into_iter().enumerate() {
        let batch = AudioBatch {
            samples: closed_form(2 * 3200, salt, 0.5, 0.0),
            shape: [2, 3200],
            lengths: vec![3200, 3200],
            paths: Vec::new(),
        };
        let losses;
        (codec, discriminator, losses) = step
            .step(codec, discriminator, &batch, device)
            .expect("a finite step");
        values.host(
            &format!("losses of step {i}"),
            losses.terms().into_iter().map(|(_, v)| v).collect(),
        );
    }
    values.weights("codec after", &codec);
    values.weights("discriminators after", &discriminator);
    values
}
