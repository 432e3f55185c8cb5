//! Training the image tokenizer: the VQGAN step (L1 + LPIPS + non-saturating GAN +
//! commitment for the generator, hinge for the PatchGAN) run by the shared GAN loop, then an
//! evaluation of the EMA weights and a PNG grid.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Tensor;
use indicatif::ProgressBar;
use simvq_data::{FileList, ImageBatch, ImageLoader, ImageTransform};
use simvq_image::{
    discriminator_hinge_loss, non_saturating_generator_loss, ImageLoss, ImageTokenizer,
    PatchDiscriminator,
};
use simvq_metrics::{Lpips, LpipsNet};
use simvq_quant::CodebookUsage;

use crate::error::{Result, TrainError};
use crate::gan_loop::{
    finish, prepare_run_dir, progress_bar, run_gan, say, scalars, GanTask, LoopSettings,
    RunOptions, RunReport, ShardStep,
};
use crate::gradients::module_gradients;
use crate::image_config::ImageTrainConfig;
use crate::image_report::{
    batch_tensor, evaluate_images, save_grid, ImageEvalNetworks, ImageEvalReport,
};
use crate::split_eval::SplitEval;

/// The outcome of an image run.
pub type ImageRunReport = RunReport<SplitEval<ImageEvalReport>>;

/// The image tokenizer's step.
pub(crate) struct ImageTask<B: AutodiffBackend> {
    loss: ImageLoss<B>,
    /// With `reference_exact`: the weight of the generator's GAN loss, whose gradient with
    /// respect to D the reference adds to D's step.
    leak: Option<f64>,
}

impl<B: AutodiffBackend> ImageTask<B> {
    /// The step of `config`; `lpips` when its perceptual weight is not 0.
    pub(crate) fn new(config: &ImageTrainConfig, lpips: Option<Lpips<B>>) -> Self {
        Self {
            loss: config.loss.init(lpips),
            leak: config
                .reference_exact
                .then_some(config.loss.generator_weight),
        }
    }
}

impl<B: AutodiffBackend> GanTask<B> for ImageTask<B> {
    type Generator = ImageTokenizer<B>;
    type Discriminator = PatchDiscriminator<B>;
    type Data = ImageTransform;

    fn loss_names(&self) -> &'static [&'static str] {
        &[
            "generator",
            "l1",
            "lpips",
            "gan",
            "commitment",
            "discriminator",
        ]
    }

    fn unit(&self) -> &'static str {
        "img"
    }

    /// The tokenizer draws nothing at random during a step (no dropout).
    fn seed_step(&self, _generator: &ImageTokenizer<B>, _seed: u64) {}

    fn batch_len(&self, batch: &ImageBatch) -> usize {
        batch.shape[0]
    }

    fn shard_step(
        &self,
        model: &ImageTokenizer<B>,
        discriminator: &PatchDiscriminator<B>,
        batch: &ImageBatch,
        examples: Range<usize>,
        weight: f64,
        device: &B::Device,
        forked: bool,
        usage: &mut CodebookUsage,
    ) -> Result<ShardStep> {
        let [_, c, h, w] = batch.shape;
        let per_image = c * h * w;
        let pixels = batch.pixels[examples.start * per_image..examples.end * per_image].to_vec();
        let x = batch_tensor::<B>(pixels, [examples.len(), c, h, w], device);
        let loss = if forked {
            self.loss.clone().fork(device)
        } else {
            self.loss.clone()
        };

        // Generator: its gradients only for its own parameters.
        let out = model.forward(x.clone())?;
        let logits_fake = discriminator.forward(out.reconstruction.clone());
        let g = loss.generator(
            x.clone(),
            out.reconstruction.clone(),
            logits_fake,
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
        let logits_fake = discriminator.forward(out.reconstruction.detach());
        let d_loss = discriminator_hinge_loss(logits_real, logits_fake.clone());
        let d_objective = match self.leak {
            Some(w) => d_loss.clone() + non_saturating_generator_loss(logits_fake) * w,
            None => d_loss.clone(),
        };
        let mut grads = (d_objective * weight).backward();
        let discriminator_grads = module_gradients(&mut grads, discriminator);

        usage.update(&out.indices)?;
        Ok(ShardStep {
            generator,
            discriminator: discriminator_grads,
            losses: scalars(vec![
                g.total,
                g.reconstruction,
                g.perceptual,
                g.adversarial,
                g.commitment,
                d_loss,
            ]),
        })
    }

    fn latents(
        &self,
        model: &ImageTokenizer<B>,
        batch: &ImageBatch,
        device: &B::Device,
    ) -> Result<Tensor<B, 2>> {
        let x = batch_tensor::<B>(batch.pixels.clone(), batch.shape, device);
        Ok(model.latents(x)?.detach())
    }

    fn init_encoder_from_data(
        &self,
        _model: ImageTokenizer<B>,
        _batches: &[ImageBatch],
        _device: &B::Device,
    ) -> Result<ImageTokenizer<B>> {
        Err(TrainError::Image(simvq_image::ImageError::InvalidConfig(
            "schedule.encoder_init = \"data\" is for the audio codec's weight-normalised \
             encoder; the image encoder normalises its activations (GroupNorm) already. Remove \
             the key or set it to \"random\""
                .into(),
        )))
    }

    fn fit_codebook(
        &self,
        mut model: ImageTokenizer<B>,
        latents: Tensor<B, 2>,
        rate: f64,
    ) -> Result<ImageTokenizer<B>> {
        model.quantizer = model.quantizer.move_towards_latents(latents, rate)?;
        Ok(model)
    }
}

/// Trains the image tokenizer of `config` on `device`, writing everything under
/// `options.out_dir`: `config.toml`, checkpoints, and at the end `metrics.json` and
/// `reconstructions.png` from the EMA weights.
pub fn train_image<B: AutodiffBackend>(
    config: &ImageTrainConfig,
    options: &RunOptions,
    device: &B::Device,
) -> Result<ImageRunReport> {
    let started = Instant::now();
    let out = &options.out_dir;
    prepare_run_dir(out, config)?;

    let train = Arc::new(ImageLoader::new(
        FileList::images(&options.train)?,
        config.data.train_transform(),
        config.data.batch_size,
        true,
        config.data.seed,
    )?);
    let val = eval_loader(config, &options.val)?;

    let bar = progress_bar(config.schedule.steps, options.progress);
    let task = ImageTask::new(config, load_lpips::<B>(config, device, &bar)?);
    let trained = run_gan(
        &task,
        |init| {
            Ok((
                config.model.init_seeded(init)?,
                config.discriminator.init_seeded(init),
            ))
        },
        train,
        &LoopSettings {
            schedule: &config.schedule,
            optimizer: &config.optimizer,
            codebook_size: config.model.quantizer.codebook_size,
            seed: config.seed,
        },
        options,
        &bar,
        device,
    )?;
    if !trained.finished {
        return finish(trained.state, None, started, trained.checkpoint, out);
    }
    let (validation, pairs) = evaluate_images(
        &trained.ema,
        &val,
        config.schedule.eval_examples,
        config.schedule.saved_examples,
        &ImageEvalNetworks::default(),
        device,
        |_, _| Ok(()),
    )?;
    save_grid(&pairs, &out.join("reconstructions.png"))?;
    let train_files = eval_loader(config, &options.train)?;
    let (training, _) = evaluate_images(
        &trained.ema,
        &train_files,
        validation.images,
        0,
        &ImageEvalNetworks::default(),
        device,
        |_, _| Ok(()),
    )?;
    let size = config.data.eval_size.unwrap_or(config.data.image_size);
    let protocol = format!(
        "end-of-training check, not the Table 1 protocol of `cargo xtask eval image`: EMA \
         weights; images resized (shorter side) and centre-cropped to {size}², batches of {}, \
         reconstructions clamped; utilization over these images' tokens; PSNR/SSIM as the \
         reference computes them; no LPIPS or rFID",
        config.data.batch_size
    );
    let eval = SplitEval::new(protocol, options, validation, training);
    finish(trained.state, Some(eval), started, trained.checkpoint, out)
}

/// The images of `folder` in order, as the final evaluation sees them.
fn eval_loader(config: &ImageTrainConfig, folder: &Path) -> Result<ImageLoader> {
    Ok(ImageLoader::new(
        FileList::images(folder)?,
        config.data.eval_transform(),
        config.data.batch_size,
        false,
        config.data.seed,
    )?)
}

/// LPIPS when the config weights it, from the configured files; a loud warning otherwise.
fn load_lpips<B: AutodiffBackend>(
    config: &ImageTrainConfig,
    device: &B::Device,
    bar: &ProgressBar,
) -> Result<Option<Lpips<B>>> {
    if config.loss.perceptual_weight <= 0.0 {
        say(
            bar,
            "WARNING: training WITHOUT the LPIPS perceptual loss (loss.perceptual_weight = 0). \
             Reconstructions will be blurrier than the reference's. To use it, set \
             loss.perceptual_weight = 1.0 and lpips.backbone / lpips.heads.",
        );
        return Ok(None);
    }
    let missing = |what: &str| {
        TrainError::Image(simvq_image::ImageError::InvalidConfig(format!(
            "loss.perceptual_weight > 0 but lpips.{what} is not set. {}",
            LpipsNet::Vgg.weights_help()
        )))
    };
    let backbone = config
        .lpips
        .backbone
        .as_ref()
        .ok_or_else(|| missing("backbone"))?;
    let heads = config
        .lpips
        .heads
        .as_ref()
        .ok_or_else(|| missing("heads"))?;
    Ok(Some(Lpips::load(
        LpipsNet::Vgg,
        Path::new(backbone),
        Path::new(heads),
        device,
    )?))
}
