//! Training the image tokenizer: one generator and one discriminator update per step, weight
//! EMA, live codebook statistics, atomic checkpoints and exact resume.
//!
//! Not burn-train's `Learner`: its checkpoints are per epoch (an ImageNet epoch is hours) and
//! not written atomically, it has no hook for weight EMA, and a GAN needs two optimizers
//! stepping two modules with different losses. The pieces here are burn's own (optimizers,
//! records, autodiff); burn-train would add only the loop.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use burn::module::{AutodiffModule, Module};
use burn::optim::{GradientsParams, MultiGradientsParams, Optimizer};
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder, Recorder};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::backend::{Device as _, DeviceId, DeviceOps};
use burn::tensor::Tensor;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use simvq_data::{Crop, FileList, ImageLoader, ImageTransform, Prefetcher};
use simvq_image::{
    discriminator_hinge_loss, ImageLoss, ImageTokenizer, Lpips, PatchDiscriminator,
    LPIPS_WEIGHTS_HELP,
};
use simvq_quant::CodebookUsage;

use crate::checkpoint::CheckpointDir;
use crate::config_file::to_toml;
use crate::ema::WeightEma;
use crate::error::{Result, TrainError};
use crate::image_config::{ImageTrainConfig, NonFinitePolicy};
use crate::image_report::{batch_tensor, evaluate_images, save_grid, ImageEvalReport};

/// Where the data is and what to do with the run directory.
#[derive(Debug, Clone)]
pub struct ImageRunOptions {
    /// Training images (any folder tree).
    pub train_dir: PathBuf,
    /// Evaluation images (centre crops).
    pub val_dir: PathBuf,
    /// Run directory: config, checkpoints, metrics, grid.
    pub out_dir: PathBuf,
    /// Continue from the newest checkpoint in `out_dir`, if there is one.
    pub resume: bool,
    /// Stop (as if killed) once this many steps are done, without the final evaluation; for
    /// tests of resume.
    pub stop_after: Option<usize>,
    /// Draw a progress bar (log lines are printed either way).
    pub progress: bool,
    /// Devices of the backend to spread each batch over (data parallel): devices `0..n` of the
    /// kind of the `device` argument; 0 or 1 means that device alone. Gradients are summed on
    /// the device that owns each parameter (burn's multi-device optimizer step).
    pub devices: usize,
}

/// Averages over one logging window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Last step of the window (1-based count of steps done).
    pub step: usize,
    /// Generator objective.
    pub generator: f64,
    /// L1 reconstruction.
    pub l1: f64,
    /// LPIPS (0 when disabled).
    pub lpips: f64,
    /// Non-saturating generator GAN loss (unweighted).
    pub gan_generator: f64,
    /// Quantizer loss (unweighted).
    pub commitment: f64,
    /// Discriminator hinge loss.
    pub discriminator: f64,
    /// Codes used in this window's training batches ÷ K.
    pub utilization: f64,
    /// Perplexity of this window's codes.
    pub perplexity: f64,
    /// Training throughput.
    pub images_per_second: f64,
}

/// What a checkpoint stores besides the weights.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct TrainState {
    /// Steps done.
    step: usize,
    history: Vec<LogEntry>,
    skipped_files: Vec<String>,
    non_finite_skips: usize,
}

/// The outcome of a finished run.
#[derive(Debug, Clone, Serialize)]
pub struct ImageRunReport {
    /// Steps done.
    pub steps: usize,
    /// The loss curve (window averages).
    pub history: Vec<LogEntry>,
    /// Final evaluation with the EMA weights (absent when the run was stopped early).
    pub eval: Option<ImageEvalReport>,
    /// Files that could not be read.
    pub skipped_files: Vec<String>,
    /// Batches whose update was skipped for a non-finite loss.
    pub non_finite_skips: usize,
    /// Wall time of this invocation.
    pub seconds: f64,
    /// The newest checkpoint.
    pub checkpoint: Option<PathBuf>,
}

type Recorder_ = NamedMpkFileRecorder<FullPrecisionSettings>;

/// One training run's live state.
struct Run<B: AutodiffBackend> {
    model: ImageTokenizer<B>,
    discriminator: PatchDiscriminator<B>,
    ema: WeightEma<ImageTokenizer<B::InnerBackend>>,
    state: TrainState,
}

fn checkpoint_error(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Checkpoint {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Sums over a logging window.
#[derive(Default)]
struct Window {
    sums: [f64; 6],
    steps: usize,
    images: usize,
    started: Option<Instant>,
}

impl Window {
    /// Starts the clock at the first step of a window.
    fn begin(&mut self) {
        self.started.get_or_insert_with(Instant::now);
    }

    fn add(&mut self, values: &[f64; 6], images: usize) {
        for (s, v) in self.sums.iter_mut().zip(values) {
            *s += v;
        }
        self.steps += 1;
        self.images += images;
    }

    fn entry(&mut self, step: usize, usage: &CodebookUsage) -> LogEntry {
        let n = self.steps.max(1) as f64;
        let secs = self.started.map_or(0.0, |t| t.elapsed().as_secs_f64());
        let [generator, l1, lpips, gan_generator, commitment, discriminator] =
            self.sums.map(|s| s / n);
        let entry = LogEntry {
            step,
            generator,
            l1,
            lpips,
            gan_generator,
            commitment,
            discriminator,
            utilization: usage.utilization(),
            perplexity: usage.perplexity(),
            images_per_second: if secs > 0.0 {
                self.images as f64 / secs
            } else {
                0.0
            },
        };
        *self = Self::default();
        entry
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> TrainError + '_ {
    move |source| TrainError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Trains the image tokenizer of `config` on `device`, writing everything under
/// `options.out_dir`.
pub fn train_image<B: AutodiffBackend>(
    config: &ImageTrainConfig,
    options: &ImageRunOptions,
    device: &B::Device,
) -> Result<ImageRunReport> {
    let started = Instant::now();
    let out = &options.out_dir;
    std::fs::create_dir_all(out).map_err(io_error(out))?;
    let config_path = out.join("config.toml");
    std::fs::write(&config_path, to_toml(config)).map_err(io_error(&config_path))?;

    let size = config.data.image_size;
    let train = Arc::new(ImageLoader::new(
        FileList::images(&options.train_dir)?,
        ImageTransform {
            size,
            crop: Crop::Random,
        },
        config.data.batch_size,
        true,
        config.data.seed,
    )?);
    let val = ImageLoader::new(
        FileList::images(&options.val_dir)?,
        ImageTransform {
            size,
            crop: Crop::Center,
        },
        config.data.batch_size,
        false,
        config.data.seed,
    )?;

    let bar = progress_bar(config.schedule.steps, options.progress);
    let loss = ImageLoss::new(&config.loss, load_lpips::<B>(config, device, &bar)?);
    let checkpoints = CheckpointDir::new(out, config.schedule.keep_checkpoints);
    let recorder = Recorder_::new();
    let adam = config.optimizer.adam();
    let mut optim_g = adam.init::<B, ImageTokenizer<B>>();
    let mut optim_d = adam.init::<B, PatchDiscriminator<B>>();

    B::seed(device, config.seed);
    let model = config.model.init::<B>(device)?;
    let discriminator = config.discriminator.init::<B>(device);
    let ema = WeightEma::new(model.valid(), config.schedule.ema_decay);
    let mut run = Run {
        model,
        discriminator,
        ema,
        state: TrainState::default(),
    };
    let mut last_checkpoint = None;
    if options.resume {
        if let Some((step, dir)) = checkpoints.latest()? {
            let load = |name: &str| dir.join(name);
            run.model = run
                .model
                .load_file(load("model"), &recorder, device)
                .map_err(|e| checkpoint_error(&dir, e))?;
            run.discriminator = run
                .discriminator
                .load_file(load("discriminator"), &recorder, device)
                .map_err(|e| checkpoint_error(&dir, e))?;
            let ema_module = run
                .ema
                .module()
                .clone()
                .load_file(load("ema"), &recorder, device)
                .map_err(|e| checkpoint_error(&dir, e))?;
            run.ema = WeightEma::new(ema_module, config.schedule.ema_decay);
            optim_g = optim_g.load_record(
                Recorder::<B>::load(&recorder, load("optim_generator"), device)
                    .map_err(|e| checkpoint_error(&dir, e))?,
            );
            optim_d = optim_d.load_record(
                Recorder::<B>::load(&recorder, load("optim_discriminator"), device)
                    .map_err(|e| checkpoint_error(&dir, e))?,
            );
            let state = std::fs::read_to_string(load("state.json")).map_err(io_error(&dir))?;
            run.state = serde_json::from_str(&state).map_err(|e| checkpoint_error(&dir, e))?;
            if run.state.step != step {
                return Err(checkpoint_error(
                    &dir,
                    "its state.json disagrees with its name",
                ));
            }
            say(
                &bar,
                format!("resumed from {} (step {step})", dir.display()),
            );
            last_checkpoint = Some(dir);
        } else {
            say(
                &bar,
                format!(
                    "no checkpoint under {}: starting from scratch",
                    checkpoints.root().display()
                ),
            );
        }
    }

    let devices = device_list::<B>(device, options.devices);
    let steps = config.schedule.steps;
    let stop_at = options.stop_after.map_or(steps, |s| s.min(steps));
    // The next batch decodes while this step trains.
    let batches = Prefetcher::new(train.clone(), run.state.step, 2);
    let mut usage = CodebookUsage::new(config.model.quantizer.codebook_size);
    let mut window = Window::default();
    bar.set_position(run.state.step as u64);
    while run.state.step < stop_at {
        let step = run.state.step;
        window.begin();
        let batch = batches.next_batch()?;
        for skipped in train.take_skipped() {
            say(
                &bar,
                format!(
                    "skipped unreadable image {}: {}",
                    skipped.path.display(),
                    skipped.reason
                ),
            );
            run.state
                .skipped_files
                .push(skipped.path.display().to_string());
        }
        let images = batch.shape[0];
        let lr = config.optimizer.learning_rate_at(step);
        let mut step_grads = StepGradients::default();
        let mut values = [0.0; 6];
        // Data parallel: each device takes a slice of the batch; every loss is weighted by its
        // slice's share, so the summed gradients are those of the whole batch's means.
        let per_image = batch.pixels.len() / images;
        let mut start = 0;
        for (shard_device, size) in devices.iter().zip(shard_sizes(images, devices.len())) {
            let weight = size as f64 / images as f64;
            let pixels = batch.pixels[start * per_image..(start + size) * per_image].to_vec();
            start += size;
            let [_, c, h, w] = batch.shape;
            let x = batch_tensor::<B>(pixels, [size, c, h, w], shard_device);
            let (model, discriminator, shard_loss) = if devices.len() == 1 {
                (run.model.clone(), run.discriminator.clone(), loss.clone())
            } else {
                (
                    run.model.clone().fork(shard_device),
                    run.discriminator.clone().fork(shard_device),
                    loss.clone().fork(shard_device),
                )
            };

            // Generator: its gradients only for its own parameters (the reference leaks the
            // generator loss's gradient into D's update; this does not).
            let out = model.forward(x.clone())?;
            let logits_fake = discriminator.forward(out.reconstruction.clone());
            let g = shard_loss.generator(
                x.clone(),
                out.reconstruction.clone(),
                logits_fake,
                &out.quant_loss,
            );
            let mut grads = (g.total.clone() * weight).backward();
            let grads_g = GradientsParams::from_module(&mut grads, &model);

            // Discriminator on the same reconstructions, detached: one simultaneous step
            // equals the reference's alternating steps.
            let logits_real = discriminator.forward(x);
            let logits_fake = discriminator.forward(out.reconstruction.detach());
            let d_loss = discriminator_hinge_loss(logits_real, logits_fake);
            let mut grads = (d_loss.clone() * weight).backward();
            let grads_d = GradientsParams::from_module(&mut grads, &discriminator);

            let shard_values = scalars([
                g.total,
                g.reconstruction,
                g.perceptual,
                g.adversarial,
                g.commitment,
                d_loss,
            ]);
            for (v, s) in values.iter_mut().zip(shard_values) {
                *v += weight * s;
            }
            usage.update(&out.indices)?;
            step_grads.push(grads_g, grads_d, shard_device.id());
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            let what = [
                "generator",
                "l1",
                "lpips",
                "gan",
                "commitment",
                "discriminator",
            ][i];
            match config.schedule.on_non_finite {
                NonFinitePolicy::Stop => {
                    bar.abandon();
                    return Err(TrainError::NonFinite {
                        step: step + 1,
                        what: what.into(),
                    });
                }
                NonFinitePolicy::Skip => {
                    say(
                        &bar,
                        format!("step {}: non-finite {what} loss, batch skipped", step + 1),
                    );
                    run.state.non_finite_skips += 1;
                    run.state.step += 1;
                    bar.inc(1);
                    continue;
                }
            }
        }
        (run.model, run.discriminator) =
            step_grads.apply(lr, run.model, run.discriminator, &mut optim_g, &mut optim_d);
        run.ema.update(&run.model);
        window.add(&values, images);
        run.state.step += 1;
        bar.inc(1);

        let done = run.state.step;
        if done.is_multiple_of(config.schedule.log_every) || done == steps {
            let entry = window.entry(done, &usage);
            usage.reset();
            bar.set_message(format!(
                "L1 {:.4} D {:.3} util {:.1}% {:.1} img/s",
                entry.l1,
                entry.discriminator,
                100.0 * entry.utilization,
                entry.images_per_second
            ));
            say(&bar, log_line(&entry, steps));
            run.state.history.push(entry);
        }
        if done.is_multiple_of(config.schedule.checkpoint_every) || done == stop_at {
            last_checkpoint = Some(save_checkpoint(
                &checkpoints,
                &run,
                &optim_g,
                &optim_d,
                &recorder,
            )?);
        }
    }
    if run.state.step < steps {
        bar.abandon_with_message("stopped");
        return Ok(report(run.state, None, started, last_checkpoint));
    }
    bar.finish_with_message("done");

    let ema_model = run.ema.module();
    let (eval, pairs) = evaluate_images(
        ema_model,
        &val,
        config.schedule.eval_images,
        config.schedule.grid_images,
        device,
    )?;
    save_grid(&pairs, &out.join("reconstructions.png"))?;
    let report = report(run.state, Some(eval), started, last_checkpoint);
    let metrics = out.join("metrics.json");
    std::fs::write(
        &metrics,
        serde_json::to_string_pretty(&report).expect("serialisable"),
    )
    .map_err(io_error(&metrics))?;
    Ok(report)
}

/// `count` devices of `device`'s kind, numbered from 0 (just `device` when `count` ≤ 1).
fn device_list<B: AutodiffBackend>(device: &B::Device, count: usize) -> Vec<B::Device> {
    if count <= 1 {
        return vec![device.clone()];
    }
    let kind = device.id().type_id;
    (0..count)
        .map(|index| {
            B::Device::from_id(DeviceId {
                type_id: kind,
                index_id: index as u16,
            })
        })
        .collect()
}

/// Images per device: as even as possible, larger slices first, no empty ones.
fn shard_sizes(images: usize, devices: usize) -> Vec<usize> {
    let devices = devices.clamp(1, images.max(1));
    (0..devices)
        .map(|i| images / devices + usize::from(i < images % devices))
        .collect()
}

/// The gradients of one step, per device.
#[derive(Default)]
struct StepGradients {
    generator: Vec<(GradientsParams, DeviceId)>,
    discriminator: Vec<(GradientsParams, DeviceId)>,
}

impl StepGradients {
    fn push(
        &mut self,
        generator: GradientsParams,
        discriminator: GradientsParams,
        device: DeviceId,
    ) {
        self.generator.push((generator, device));
        self.discriminator.push((discriminator, device));
    }

    /// One optimizer step per network: the plain step on one device, the summing multi-device
    /// step otherwise.
    fn apply<B, OG, OD>(
        mut self,
        lr: f64,
        model: ImageTokenizer<B>,
        discriminator: PatchDiscriminator<B>,
        optim_g: &mut OG,
        optim_d: &mut OD,
    ) -> (ImageTokenizer<B>, PatchDiscriminator<B>)
    where
        B: AutodiffBackend,
        OG: Optimizer<ImageTokenizer<B>, B>,
        OD: Optimizer<PatchDiscriminator<B>, B>,
    {
        if self.generator.len() == 1 {
            let (g, _) = self.generator.pop().expect("one device");
            let (d, _) = self.discriminator.pop().expect("one device");
            return (
                optim_g.step(lr, model, g),
                optim_d.step(lr, discriminator, d),
            );
        }
        let model = optim_g.step_multi(
            lr,
            model,
            MultiGradientsParams {
                grads: self.generator,
            },
        );
        let discriminator = optim_d.step_multi(
            lr,
            discriminator,
            MultiGradientsParams {
                grads: self.discriminator,
            },
        );
        (model, discriminator)
    }
}

fn report(
    state: TrainState,
    eval: Option<ImageEvalReport>,
    started: Instant,
    checkpoint: Option<PathBuf>,
) -> ImageRunReport {
    ImageRunReport {
        steps: state.step,
        history: state.history,
        eval,
        skipped_files: state.skipped_files,
        non_finite_skips: state.non_finite_skips,
        seconds: started.elapsed().as_secs_f64(),
        checkpoint,
    }
}

/// Host values of `[1]` loss tensors, in one transfer.
fn scalars<B: AutodiffBackend, const N: usize>(losses: [Tensor<B, 1>; N]) -> [f64; N] {
    let all = Tensor::cat(losses.into_iter().map(|t| t.detach()).collect(), 0);
    let values: Vec<f32> = all.into_data().convert::<f32>().to_vec().expect("f32 data");
    std::array::from_fn(|i| f64::from(values[i]))
}

fn log_line(e: &LogEntry, steps: usize) -> String {
    format!(
        "step {:>7}/{steps}  G {:.4}  L1 {:.4}  LPIPS {:.4}  GAN {:.4}  commit {:.5}  D {:.4}  \
         util {:.1}%  ppl {:.0}  {:.1} img/s",
        e.step,
        e.generator,
        e.l1,
        e.lpips,
        e.gan_generator,
        e.commitment,
        e.discriminator,
        100.0 * e.utilization,
        e.perplexity,
        e.images_per_second
    )
}

fn save_checkpoint<B: AutodiffBackend, OG, OD>(
    checkpoints: &CheckpointDir,
    run: &Run<B>,
    optim_g: &OG,
    optim_d: &OD,
    recorder: &Recorder_,
) -> Result<PathBuf>
where
    OG: Optimizer<ImageTokenizer<B>, B>,
    OD: Optimizer<PatchDiscriminator<B>, B>,
{
    checkpoints.save(run.state.step, |dir| {
        let fail = |e: burn::record::RecorderError| checkpoint_error(dir, e);
        run.model
            .clone()
            .save_file(dir.join("model"), recorder)
            .map_err(fail)?;
        run.discriminator
            .clone()
            .save_file(dir.join("discriminator"), recorder)
            .map_err(fail)?;
        run.ema
            .module()
            .clone()
            .save_file(dir.join("ema"), recorder)
            .map_err(fail)?;
        Recorder::<B>::record(recorder, optim_g.to_record(), dir.join("optim_generator"))
            .map_err(fail)?;
        Recorder::<B>::record(
            recorder,
            optim_d.to_record(),
            dir.join("optim_discriminator"),
        )
        .map_err(fail)?;
        let state = dir.join("state.json");
        std::fs::write(
            &state,
            serde_json::to_string(&run.state).expect("serialisable"),
        )
        .map_err(io_error(&state))
    })
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
            "loss.perceptual_weight > 0 but lpips.{what} is not set. {LPIPS_WEIGHTS_HELP}"
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
        Path::new(backbone),
        Path::new(heads),
        device,
    )?))
}

/// A log line: above the bar when it is drawn, on stderr when it is hidden.
fn say(bar: &ProgressBar, line: impl AsRef<str>) {
    if bar.is_hidden() {
        eprintln!("{}", line.as_ref());
    } else {
        bar.println(line);
    }
}

fn progress_bar(steps: usize, visible: bool) -> ProgressBar {
    let bar = if visible {
        ProgressBar::new(steps as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {pos}/{len} steps  {msg}  [{elapsed_precise} < {eta_precise}]",
        )
        .expect("valid template"),
    );
    bar
}
