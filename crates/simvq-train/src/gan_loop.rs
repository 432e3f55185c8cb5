//! The training loop both tokenizers share: one generator and one discriminator update per
//! step, data parallel over devices, weight EMA, live codebook statistics, NaN handling,
//! atomic checkpoints and exact resume. The modality (images, audio) supplies the forward
//! and backward passes through [`GanTask`].
//!
//! Not burn-train's `Learner`: its checkpoints are per epoch (an ImageNet epoch is hours) and
//! not written atomically, it has no hook for weight EMA, and a GAN needs two optimizers
//! stepping two modules with different losses. The pieces here are burn's own (optimizers,
//! records, autodiff); burn-train would add only the loop.

use std::collections::BTreeMap;
use std::ops::Range;
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
use simvq_data::{Example, Loader, Prefetcher};
use simvq_quant::{autodiff_lock, CodebookUsage, SeededInit};

use crate::ema::WeightEma;
use crate::error::{Result, TrainError};
use crate::optimizer::OptimizerSettings;
use crate::schedule::{CodebookInit, EncoderInit, NonFinitePolicy, ScheduleSettings};
use simvq_run::{to_toml, CheckpointDir, RunError};

/// Where the data is and what to do with the run directory.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Training data: a folder (any tree), or for audio also a manifest file.
    pub train: PathBuf,
    /// Evaluation data, the same way.
    pub val: PathBuf,
    /// Run directory: config, checkpoints, metrics, samples.
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
    /// Mean of each loss over the window (unweighted terms; the generator objective is
    /// `generator`, the discriminator's `discriminator`).
    pub losses: BTreeMap<String, f64>,
    /// Codes used in this window's training batches ÷ K.
    pub utilization: f64,
    /// Perplexity of this window's codes.
    pub perplexity: f64,
    /// Training throughput (images or clips per second).
    pub examples_per_second: f64,
}

/// What a checkpoint stores besides the weights.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct TrainState {
    /// Steps done.
    pub step: usize,
    pub history: Vec<LogEntry>,
    pub skipped_files: Vec<String>,
    pub non_finite_skips: usize,
}

/// The outcome of a finished run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport<E> {
    /// Steps done.
    pub steps: usize,
    /// The loss curve (window averages).
    pub history: Vec<LogEntry>,
    /// Final evaluation with the EMA weights (absent when the run was stopped early).
    pub eval: Option<E>,
    /// Files that could not be read.
    pub skipped_files: Vec<String>,
    /// Batches whose update was skipped for a non-finite loss.
    pub non_finite_skips: usize,
    /// Wall time of this invocation.
    pub seconds: f64,
    /// The newest checkpoint.
    pub checkpoint: Option<PathBuf>,
}

/// One device's share of a step.
pub(crate) struct ShardStep {
    /// Gradients of the generator's parameters (from the generator loss only).
    pub generator: GradientsParams,
    /// Gradients of the discriminator's parameters (from its loss on detached outputs).
    pub discriminator: GradientsParams,
    /// The shard's loss values, in [`GanTask::loss_names`] order.
    pub losses: Vec<f64>,
}

/// A modality's part of a run: how a shard of a batch becomes gradients.
pub(crate) trait GanTask<B: AutodiffBackend> {
    /// The tokenizer.
    type Generator: AutodiffModule<B> + Clone + 'static;
    /// Its discriminator(s), one module.
    type Discriminator: AutodiffModule<B> + Clone + 'static;
    /// How files become examples.
    type Data: Example;

    /// Names of the logged losses: `generator` first, `discriminator` last.
    fn loss_names(&self) -> &'static [&'static str];

    /// What the throughput counts ("img", "clips").
    fn unit(&self) -> &'static str;

    /// Seeds the generator's own random draws (dropout masks) for one step, so that they
    /// depend on the run's seed and the step alone and a resumed run replays them.
    fn seed_step(&self, generator: &Self::Generator, seed: u64);

    /// Examples in a batch.
    fn batch_len(&self, batch: &<Self::Data as Example>::Batch) -> usize;

    /// Forward and backward passes for `examples` of `batch` on `device`, every loss scaled by
    /// `weight` (the shard's share of the batch) before backward; `forked` says the modules
    /// were moved to `device`, so the task's own modules (loss networks) must be too. Records
    /// the codes used in `usage`.
    #[allow(clippy::too_many_arguments)]
    fn shard_step(
        &self,
        generator: &Self::Generator,
        discriminator: &Self::Discriminator,
        batch: &<Self::Data as Example>::Batch,
        examples: Range<usize>,
        weight: f64,
        device: &B::Device,
        forked: bool,
        usage: &mut CodebookUsage,
    ) -> Result<ShardStep>;

    /// The generator's latents before quantization for all of `batch`, `[tokens, D]`
    /// (what [`CodebookInit::Data`] fits the codebook to).
    fn latents(
        &self,
        generator: &Self::Generator,
        batch: &<Self::Data as Example>::Batch,
        device: &B::Device,
    ) -> Result<Tensor<B, 2>>;

    /// `generator` with its encoder initialised from the training clips of `batches`
    /// ([`EncoderInit::Data`]); an error for a task whose encoder has no such init.
    fn init_encoder_from_data(
        &self,
        generator: Self::Generator,
        batches: &[<Self::Data as Example>::Batch],
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

/// How much data one fit of the codebook reads (latent rows per code dimension) and how far
/// it moves `W` and `b` (1: all the way).
#[derive(Debug, Clone, Copy)]
struct Fit {
    rows_per_dim: usize,
    rate: f64,
}

/// The fit before the first step: enough latents for a well-conditioned covariance.
const INITIAL_FIT: Fit = Fit {
    rows_per_dim: 16,
    rate: 1.0,
};
/// The same for the refits of the first steps, which track a moving encoder and so must not
/// look far ahead.
const REFIT_ROWS_PER_DIM: usize = 4;
/// Training examples the encoder's data init reads (whole batches, at least one).
const ENCODER_INIT_EXAMPLES: usize = 16;
/// Most batches read for one fit, whatever their size.
const FIT_MAX_BATCHES: usize = 64;

/// Fits `generator`'s codebook to its latents on the training batches of steps `first`
/// (`first_batch` when the caller has it decoded already), `first + 1`, … until
/// `fit.rows_per_dim · D` latents are gathered (the loader's order is seeded, so this is
/// reproducible and a resumed run refits the same way), moving it `fit.rate` of the way.
/// Returns the generator and the number of latents and batches used. Its callers hold the
/// autodiff lock.
fn fit_codebook_to_data<B: AutodiffBackend, T: GanTask<B>>(
    task: &T,
    generator: T::Generator,
    loader: &Loader<T::Data>,
    first: usize,
    first_batch: Option<&<T::Data as Example>::Batch>,
    fit: Fit,
    device: &B::Device,
) -> Result<(T::Generator, usize, usize)> {
    let mut parts = Vec::new();
    let mut rows = 0;
    for step in first..first + FIT_MAX_BATCHES {
        let decoded;
        let batch = match first_batch.filter(|_| step == first) {
            Some(batch) => batch,
            None => {
                decoded = loader.batch_at_step(step)?;
                &decoded
            }
        };
        let latents = task.latents(&generator, batch, device)?;
        let [n, d] = latents.dims();
        rows += n;
        parts.push(latents);
        if rows >= fit.rows_per_dim * d {
            break;
        }
    }
    let batches = parts.len();
    let latents = Tensor::cat(parts, 0);
    let host: Vec<f32> = latents
        .to_data()
        .convert::<f32>()
        .to_vec()
        .expect("f32 data");
    if host.iter().any(|v| !v.is_finite()) {
        // A diverged encoder: stopped like a non-finite loss, before the bad step is taken.
        return Err(TrainError::NonFinite {
            step: first + 1,
            what: "encoder latents (codebook fit)".into(),
        });
    }
    let generator = task.fit_codebook(generator, latents, fit.rate)?;
    Ok((generator, rows, batches))
}

/// A fresh `generator` with the data-dependent inits `schedule` asks for: the encoder's
/// ([`EncoderInit::Data`]), then the codebook's ([`CodebookInit::Data`]), on the first
/// training batches. A resumed run skips them: its weights come from the checkpoint.
fn init_from_data<B: AutodiffBackend, T: GanTask<B>>(
    task: &T,
    mut generator: T::Generator,
    loader: &Loader<T::Data>,
    schedule: &ScheduleSettings,
    bar: &ProgressBar,
    device: &B::Device,
) -> Result<T::Generator> {
    let _autodiff = autodiff_lock();
    if schedule.encoder_init == EncoderInit::Data {
        let batches = encoder_init_batches(task, loader)?;
        generator = task.init_encoder_from_data(generator, &batches, device)?;
        say(
            bar,
            format!(
                "encoder_init = data: convs standardised on the clips of the first {} batches",
                batches.len()
            ),
        );
    }
    if schedule.codebook_init == CodebookInit::Data {
        let (fitted, rows, batches) =
            fit_codebook_to_data(task, generator, loader, 0, None, INITIAL_FIT, device)?;
        generator = fitted;
        say(
            bar,
            format!(
                "codebook_init = data: W and b fitted to {rows} latents of the first {batches} \
                 batches"
            ),
        );
    }
    Ok(generator)
}

/// The first training batches, until they hold [`ENCODER_INIT_EXAMPLES`] examples (at most
/// [`FIT_MAX_BATCHES`]).
fn encoder_init_batches<B: AutodiffBackend, T: GanTask<B>>(
    task: &T,
    loader: &Loader<T::Data>,
) -> Result<Vec<<T::Data as Example>::Batch>> {
    let mut batches = Vec::new();
    let mut examples = 0;
    for step in 0..FIT_MAX_BATCHES {
        let batch = loader.batch_at_step(step)?;
        examples += task.batch_len(&batch);
        batches.push(batch);
        if examples >= ENCODER_INIT_EXAMPLES {
            break;
        }
    }
    Ok(batches)
}

/// Run settings the loop reads.
pub(crate) struct LoopSettings<'a> {
    pub schedule: &'a ScheduleSettings,
    pub optimizer: &'a OptimizerSettings,
    pub codebook_size: usize,
    /// Seed of the model initialisation.
    pub seed: u64,
}

/// The loop's result.
pub(crate) struct Trained<M> {
    pub state: TrainState,
    /// The EMA weights.
    pub ema: M,
    pub checkpoint: Option<PathBuf>,
    /// All configured steps are done (not stopped by `stop_after`).
    pub finished: bool,
}

type Recorder_ = NamedMpkFileRecorder<FullPrecisionSettings>;
type EmaOf<B, T> = WeightEma<<<T as GanTask<B>>::Generator as AutodiffModule<B>>::InnerModule>;

/// Live state of a run.
struct Run<B: AutodiffBackend, T: GanTask<B>> {
    generator: T::Generator,
    discriminator: T::Discriminator,
    ema: EmaOf<B, T>,
    state: TrainState,
}

/// Trains `task` on `loader`'s batches: initialises the networks with `init` (drawing from the
/// run's seed on the host), resumes from the newest checkpoint when asked, and runs to the end (or to
/// `options.stop_after`).
pub(crate) fn run_gan<B, T>(
    task: &T,
    init: impl FnOnce(&SeededInit<B>) -> Result<(T::Generator, T::Discriminator)>,
    loader: Arc<Loader<T::Data>>,
    settings: &LoopSettings,
    options: &RunOptions,
    bar: &ProgressBar,
    device: &B::Device,
) -> Result<Trained<<T::Generator as AutodiffModule<B>>::InnerModule>>
where
    B: AutodiffBackend,
    T: GanTask<B>,
{
    let schedule = settings.schedule;
    let checkpoints = CheckpointDir::new(&options.out_dir, schedule.keep_checkpoints);
    let recorder = Recorder_::new();
    let adam = settings.optimizer.adam();
    let mut optim_g = adam.init::<B, T::Generator>();
    let mut optim_d = adam.init::<B, T::Discriminator>();

    let resume_from = if options.resume {
        let latest = checkpoints.latest()?;
        if latest.is_none() {
            say(
                bar,
                format!(
                    "no checkpoint under {}: starting from scratch",
                    checkpoints.root().display()
                ),
            );
        }
        latest
    } else {
        None
    };
    let (mut generator, discriminator) = init(&SeededInit::new(settings.seed, device))?;
    if resume_from.is_none() {
        generator = init_from_data(task, generator, &loader, schedule, bar, device)?;
    }
    let ema = WeightEma::new(generator.valid(), schedule.ema_decay);
    let mut run = Run::<B, T> {
        generator,
        discriminator,
        ema,
        state: TrainState::default(),
    };
    let mut last_checkpoint = None;
    if let Some((step, dir)) = resume_from {
        (optim_g, optim_d) =
            load_checkpoint(&mut run, optim_g, optim_d, &dir, step, &recorder, device)?;
        say(bar, format!("resumed from {} (step {step})", dir.display()));
        last_checkpoint = Some(dir);
    }

    let devices = device_list::<B>(device, options.devices);
    let steps = schedule.steps;
    let stop_at = options.stop_after.map_or(steps, |s| s.min(steps));
    let names = task.loss_names();
    // The next batch decodes while this step trains.
    let batches = Prefetcher::new(loader.clone(), run.state.step, 2);
    let mut usage = CodebookUsage::new(settings.codebook_size);
    let mut window = Window::new(names.len());
    bar.set_position(run.state.step as u64);
    while run.state.step < stop_at {
        // Another thread's autodiff could otherwise drop part of this step's graph (see
        // simvq_quant::autodiff_lock); held until the updates, not over logging and I/O.
        let autodiff = autodiff_lock();
        let step = run.state.step;
        window.begin();
        // A checkpoint does not hold the dropout generator: seed it from (seed, step) so a
        // resumed run draws what the uninterrupted one would.
        task.seed_step(&run.generator, step_seed(settings.seed, step));
        let batch = batches.next_batch()?;
        for skipped in loader.take_skipped() {
            say(
                bar,
                format!(
                    "skipped unreadable file {}: {}",
                    skipped.path.display(),
                    skipped.reason
                ),
            );
            run.state
                .skipped_files
                .push(skipped.path.display().to_string());
        }
        if schedule.codebook_init == CodebookInit::Data && step < schedule.codebook_refit_steps {
            // Early on the encoder's latents move faster than the codes can follow: keep the
            // codebook on the latents of this step's batch (and the next ones when one batch
            // holds too few) until the encoder settles.
            let refit = fit_codebook_to_data(
                task,
                run.generator.clone(),
                &loader,
                step,
                Some(&batch),
                Fit {
                    rows_per_dim: REFIT_ROWS_PER_DIM,
                    rate: schedule.codebook_refit_rate,
                },
                device,
            );
            match (refit, schedule.on_non_finite) {
                (Ok((refitted, _, _)), _) => run.generator = refitted,
                // Skipping: keep the codebook; the step's losses will be skipped too.
                (Err(TrainError::NonFinite { .. }), NonFinitePolicy::Skip) => {}
                (Err(e), _) => return Err(e),
            }
        }
        let examples = task.batch_len(&batch);
        let mut step_grads = StepGradients::default();
        let mut values = vec![0.0; names.len()];
        // Data parallel: each device takes a slice of the batch; every loss is weighted by its
        // slice's share, so the summed gradients are those of the whole batch's means.
        let mut start = 0;
        let forked = devices.len() > 1;
        for (shard_device, size) in devices.iter().zip(shard_sizes(examples, devices.len())) {
            let weight = size as f64 / examples as f64;
            let (generator, discriminator) = if forked {
                (
                    run.generator.clone().fork(shard_device),
                    run.discriminator.clone().fork(shard_device),
                )
            } else {
                (run.generator.clone(), run.discriminator.clone())
            };
            let shard = task.shard_step(
                &generator,
                &discriminator,
                &batch,
                start..start + size,
                weight,
                shard_device,
                forked,
                &mut usage,
            )?;
            start += size;
            for (v, s) in values.iter_mut().zip(&shard.losses) {
                *v += weight * s;
            }
            step_grads.push(shard.generator, shard.discriminator, shard_device.id());
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            let what = names[i];
            match schedule.on_non_finite {
                NonFinitePolicy::Stop => {
                    bar.abandon();
                    return Err(TrainError::NonFinite {
                        step: step + 1,
                        what: what.into(),
                    });
                }
                NonFinitePolicy::Skip => {
                    say(
                        bar,
                        format!("step {}: non-finite {what} loss, batch skipped", step + 1),
                    );
                    run.state.non_finite_skips += 1;
                    run.state.step += 1;
                    bar.inc(1);
                    continue;
                }
            }
        }
        let lr = settings.optimizer.learning_rate_at(step, schedule.steps);
        (run.generator, run.discriminator) = step_grads.apply(
            lr,
            run.generator,
            run.discriminator,
            &mut optim_g,
            &mut optim_d,
        );
        run.ema.update(&run.generator);
        drop(autodiff);
        window.add(&values, examples);
        run.state.step += 1;
        bar.inc(1);

        let done = run.state.step;
        if done.is_multiple_of(schedule.log_every) || done == steps {
            let entry = window.entry(done, names, &usage);
            usage.reset();
            bar.set_message(format!(
                "{} {:.4} util {:.1}% {:.1} {}/s",
                names[1],
                entry.losses[names[1]],
                100.0 * entry.utilization,
                entry.examples_per_second,
                task.unit()
            ));
            say(bar, log_line(&entry, names, steps, task.unit()));
            run.state.history.push(entry);
        }
        if done.is_multiple_of(schedule.checkpoint_every) || done == stop_at {
            last_checkpoint = Some(save_checkpoint(
                &checkpoints,
                &run,
                &optim_g,
                &optim_d,
                &recorder,
            )?);
        }
    }
    let finished = run.state.step >= steps;
    if finished {
        bar.finish_with_message("done");
    } else {
        bar.abandon_with_message("stopped");
    }
    Ok(Trained {
        state: run.state,
        ema: run.ema.into_module(),
        checkpoint: last_checkpoint,
        finished,
    })
}

/// The dropout seed of step `step` (SplitMix64 of the run seed and the step).
fn step_seed(seed: u64, step: usize) -> u64 {
    let mut z = seed ^ (step as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Sums over a logging window.
struct Window {
    sums: Vec<f64>,
    steps: usize,
    examples: usize,
    started: Option<Instant>,
}

impl Window {
    fn new(losses: usize) -> Self {
        Self {
            sums: vec![0.0; losses],
            steps: 0,
            examples: 0,
            started: None,
        }
    }

    /// Starts the clock at the first step of a window.
    fn begin(&mut self) {
        self.started.get_or_insert_with(Instant::now);
    }

    fn add(&mut self, values: &[f64], examples: usize) {
        for (s, v) in self.sums.iter_mut().zip(values) {
            *s += v;
        }
        self.steps += 1;
        self.examples += examples;
    }

    fn entry(&mut self, step: usize, names: &[&str], usage: &CodebookUsage) -> LogEntry {
        let n = self.steps.max(1) as f64;
        let secs = self.started.map_or(0.0, |t| t.elapsed().as_secs_f64());
        let entry = LogEntry {
            step,
            losses: names
                .iter()
                .zip(&self.sums)
                .map(|(name, sum)| (name.to_string(), sum / n))
                .collect(),
            utilization: usage.utilization(),
            perplexity: usage.perplexity(),
            examples_per_second: if secs > 0.0 {
                self.examples as f64 / secs
            } else {
                0.0
            },
        };
        *self = Self::new(self.sums.len());
        entry
    }
}

fn log_line(e: &LogEntry, names: &[&str], steps: usize, unit: &str) -> String {
    let losses: Vec<String> = names
        .iter()
        .map(|name| format!("{name} {:.4}", e.losses[*name]))
        .collect();
    format!(
        "step {:>7}/{steps}  {}  util {:.1}%  ppl {:.0}  {:.1} {unit}/s",
        e.step,
        losses.join("  "),
        100.0 * e.utilization,
        e.perplexity,
        e.examples_per_second
    )
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

/// Examples per device: as even as possible, larger slices first, no empty ones.
fn shard_sizes(examples: usize, devices: usize) -> Vec<usize> {
    let devices = devices.clamp(1, examples.max(1));
    (0..devices)
        .map(|i| examples / devices + usize::from(i < examples % devices))
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
    fn apply<B, G, D, OG, OD>(
        mut self,
        lr: f64,
        generator: G,
        discriminator: D,
        optim_g: &mut OG,
        optim_d: &mut OD,
    ) -> (G, D)
    where
        B: AutodiffBackend,
        G: AutodiffModule<B>,
        D: AutodiffModule<B>,
        OG: Optimizer<G, B>,
        OD: Optimizer<D, B>,
    {
        if self.generator.len() == 1 {
            let (g, _) = self.generator.pop().expect("one device");
            let (d, _) = self.discriminator.pop().expect("one device");
            return (
                optim_g.step(lr, generator, g),
                optim_d.step(lr, discriminator, d),
            );
        }
        let generator = optim_g.step_multi(
            lr,
            generator,
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
        (generator, discriminator)
    }
}

/// Host values of `[1]` loss tensors, in one transfer.
pub(crate) fn scalars<B: AutodiffBackend>(losses: Vec<Tensor<B, 1>>) -> Vec<f64> {
    let all = Tensor::cat(losses.into_iter().map(|t| t.detach()).collect(), 0);
    let values: Vec<f32> = all.into_data().convert::<f32>().to_vec().expect("f32 data");
    values.into_iter().map(f64::from).collect()
}

pub(crate) fn checkpoint_error(path: &Path, e: impl std::fmt::Display) -> TrainError {
    RunError::Checkpoint {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
    .into()
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> TrainError + '_ {
    move |source| {
        RunError::Io {
            path: path.to_path_buf(),
            source,
        }
        .into()
    }
}

fn save_checkpoint<B, T, OG, OD>(
    checkpoints: &CheckpointDir,
    run: &Run<B, T>,
    optim_g: &OG,
    optim_d: &OD,
    recorder: &Recorder_,
) -> Result<PathBuf>
where
    B: AutodiffBackend,
    T: GanTask<B>,
    OG: Optimizer<T::Generator, B>,
    OD: Optimizer<T::Discriminator, B>,
{
    checkpoints.save(run.state.step, |dir| {
        let fail = |e: burn::record::RecorderError| checkpoint_error(dir, e);
        run.generator
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

fn load_checkpoint<B, T, OG, OD>(
    run: &mut Run<B, T>,
    optim_g: OG,
    optim_d: OD,
    dir: &Path,
    step: usize,
    recorder: &Recorder_,
    device: &B::Device,
) -> Result<(OG, OD)>
where
    B: AutodiffBackend,
    T: GanTask<B>,
    OG: Optimizer<T::Generator, B>,
    OD: Optimizer<T::Discriminator, B>,
{
    let load = |name: &str| dir.join(name);
    let fail = |e: burn::record::RecorderError| checkpoint_error(dir, e);
    run.generator = run
        .generator
        .clone()
        .load_file(load("model"), recorder, device)
        .map_err(fail)?;
    run.discriminator = run
        .discriminator
        .clone()
        .load_file(load("discriminator"), recorder, device)
        .map_err(fail)?;
    let ema_module = run
        .ema
        .module()
        .clone()
        .load_file(load("ema"), recorder, device)
        .map_err(fail)?;
    run.ema = WeightEma::new(ema_module, run.ema.decay());
    let optim_g = optim_g
        .load_record(Recorder::<B>::load(recorder, load("optim_generator"), device).map_err(fail)?);
    let optim_d = optim_d.load_record(
        Recorder::<B>::load(recorder, load("optim_discriminator"), device).map_err(fail)?,
    );
    let state = std::fs::read_to_string(load("state.json")).map_err(io_error(dir))?;
    run.state = serde_json::from_str(&state).map_err(|e| checkpoint_error(dir, e))?;
    if run.state.step != step {
        return Err(checkpoint_error(
            dir,
            "its state.json disagrees with its name",
        ));
    }
    Ok((optim_g, optim_d))
}

/// Creates the run directory and writes the config that runs into it (`config.toml`).
pub(crate) fn prepare_run_dir(out: &Path, config: &impl Serialize) -> Result<()> {
    std::fs::create_dir_all(out).map_err(io_error(out))?;
    let path = out.join("config.toml");
    std::fs::write(&path, to_toml(config)).map_err(io_error(&path))
}

/// The report of a run, written to `out/metrics.json` when it has an evaluation.
pub(crate) fn finish<E: Serialize>(
    state: TrainState,
    eval: Option<E>,
    started: Instant,
    checkpoint: Option<PathBuf>,
    out: &Path,
) -> Result<RunReport<E>> {
    let report = RunReport {
        steps: state.step,
        history: state.history,
        eval,
        skipped_files: state.skipped_files,
        non_finite_skips: state.non_finite_skips,
        seconds: started.elapsed().as_secs_f64(),
        checkpoint,
    };
    if report.eval.is_some() {
        let metrics = out.join("metrics.json");
        std::fs::write(
            &metrics,
            serde_json::to_string_pretty(&report).expect("serialisable"),
        )
        .map_err(io_error(&metrics))?;
    }
    Ok(report)
}

/// A log line: above the bar when it is drawn, on stderr when it is hidden.
pub(crate) fn say(bar: &ProgressBar, line: impl AsRef<str>) {
    if bar.is_hidden() {
        eprintln!("{}", line.as_ref());
    } else {
        bar.println(line);
    }
}

/// The run's progress bar (hidden when `visible` is false).
pub(crate) fn progress_bar(steps: usize, visible: bool) -> ProgressBar {
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
