//! The training loop both tokenizers share: one generator and one discriminator update per
//! step, data parallel over devices and over the processes of a multi-node run, weight EMA,
//! live codebook statistics, NaN handling, atomic checkpoints and exact resume. The modality
//! (images, audio) supplies the forward and backward passes through [`GanTask`].
//!
//! Not burn-train's `Learner`: its checkpoints are per epoch (an ImageNet epoch is hours) and
//! not written atomically, it has no hook for weight EMA, and a GAN needs two optimizers
//! stepping two modules with different losses. The pieces here are burn's own (optimizers,
//! records, autodiff); burn-train would add only the loop.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use indicatif::ProgressBar;
use serde::Serialize;
use simvq_data::{Loader, Prefetcher};
use simvq_quant::{autodiff_lock, CodebookUsage, SeededInit};
use simvq_run::CheckpointDir;

use crate::cluster::{weights_of_leader, Cluster, NodeSettings};
use crate::data_init::{fit_codebook_to_data, init_from_data, Fit, REFIT_ROWS_PER_DIM};
use crate::data_parallel::DataParallel;
use crate::error::{Result, TrainError};
use crate::loss_record::{LossRecord, TermSums};
use crate::optimizer::OptimizerSettings;
use crate::progress::{say, Window};
use crate::run_report::{finish, RunReport, TrainState};
use crate::run_state::Run;
use crate::schedule::{CodebookInit, NonFinitePolicy, ScheduleSettings};
use crate::task::{BatchOf, GanTask, InnerOf};

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
    /// This process's place in a multi-node run (`None`: a run of its own). Each node trains
    /// its slice of every batch; rank 0 alone writes checkpoints and reports.
    pub nodes: Option<NodeSettings>,
}

impl RunOptions {
    /// Whether this process writes the run's files: always, except on the nodes of a
    /// multi-node run other than rank 0.
    pub fn is_leader(&self) -> bool {
        self.nodes.as_ref().is_none_or(|n| n.rank == 0)
    }

    /// `(rank, nodes)`: which slice of each batch this process loads, of how many.
    pub fn shard(&self) -> (usize, usize) {
        self.nodes.as_ref().map_or((0, 1), |n| (n.rank, n.nodes))
    }
}

/// Run settings the loop reads.
pub(crate) struct LoopSettings<'a> {
    pub schedule: &'a ScheduleSettings,
    pub optimizer: &'a OptimizerSettings,
    pub codebook_size: usize,
    /// Seed of the model initialisation.
    pub seed: u64,
}

/// Where a run reads and writes, and what it shows.
pub(crate) struct RunContext<'a, B: AutodiffBackend> {
    pub options: &'a RunOptions,
    pub bar: &'a ProgressBar,
    pub device: &'a B::Device,
    /// When the invocation started: the report's wall time counts from here.
    pub started: Instant,
}

/// A trained step's losses and how many examples it trained on (on all nodes).
type Trained = (TermSums, usize);

/// What a step needs besides the run: the task, its data, the devices, the settings.
struct Stepper<'a, B: AutodiffBackend, T: GanTask<B>> {
    task: &'a T,
    loader: &'a Loader<T::Data>,
    parallel: DataParallel<B>,
    settings: &'a LoopSettings<'a>,
    bar: &'a ProgressBar,
    device: &'a B::Device,
}

/// Trains `task` on `loader`'s batches: initialises the networks with `init` (drawing from the
/// run's seed on the host), resumes from the newest checkpoint when asked, and runs to the
/// end, then `evaluate`s the EMA weights and writes the report (`metrics.json`); a run stopped
/// by `options.stop_after` ends without the evaluation.
pub(crate) fn run_gan<B, T, E>(
    task: &T,
    init: impl FnOnce(&SeededInit<B>) -> Result<(T::Generator, T::Discriminator)>,
    loader: Arc<Loader<T::Data>>,
    settings: &LoopSettings,
    context: RunContext<B>,
    evaluate: impl FnOnce(&InnerOf<B, T>) -> Result<E>,
) -> Result<RunReport<E>>
where
    B: AutodiffBackend,
    T: GanTask<B>,
    E: Serialize,
{
    let RunContext {
        options,
        bar,
        device,
        started,
    } = context;
    let schedule = settings.schedule;
    let checkpoints = CheckpointDir::new(&options.out_dir, schedule.keep_checkpoints);
    let cluster = match options.nodes.as_ref().filter(|n| n.nodes > 1) {
        Some(nodes) => {
            say(
                bar,
                format!(
                    "node {} of {}: waiting for the others at {}",
                    nodes.rank, nodes.nodes, nodes.coordinator
                ),
            );
            Some(Cluster::join(nodes, device)?)
        }
        None => None,
    };
    let stepper = Stepper {
        task,
        loader: &loader,
        parallel: DataParallel::new(device, options.devices, cluster)?,
        settings,
        bar,
        device,
    };
    let leader = options.is_leader();
    let (mut run, mut last_checkpoint) = stepper.start(init, options.resume, &checkpoints)?;
    let stop_at = options
        .stop_after
        .map_or(schedule.steps, |s| s.min(schedule.steps));
    // The next batch decodes while this step trains.
    let batches = Prefetcher::new(loader.clone(), run.state.step, 2);
    let mut usage = CodebookUsage::new(settings.codebook_size);
    let mut window = Window::default();
    bar.set_position(run.state.step as u64);
    while run.state.step < stop_at {
        window.begin();
        let batch = batches.next_batch()?;
        stepper.note_skipped_files(&mut run.state);
        let losses;
        (run, losses) = stepper.step(run, &batch, &mut usage)?;
        if let Some((losses, examples)) = &losses {
            window.add(losses, *examples);
        }
        run.state.step += 1;
        bar.inc(1);
        let done = run.state.step;
        if done.is_multiple_of(schedule.log_every) || done == schedule.steps {
            stepper.log(&mut window, &mut usage, &mut run.state)?;
        }
        if leader && (done.is_multiple_of(schedule.checkpoint_every) || done == stop_at) {
            last_checkpoint = Some(run.save(&checkpoints)?);
        }
    }
    if run.state.step < schedule.steps || !leader {
        let message = if leader {
            "stopped"
        } else {
            "done (rank 0 evaluates)"
        };
        bar.abandon_with_message(message);
        return finish(run.state, None, started, last_checkpoint, &options.out_dir);
    }
    bar.finish_with_message("done");
    let eval = evaluate(run.ema.module())?;
    finish(
        run.state,
        Some(eval),
        started,
        last_checkpoint,
        &options.out_dir,
    )
}

impl<B: AutodiffBackend, T: GanTask<B>> Stepper<'_, B, T> {
    /// The run at its first step: the newest checkpoint's when resuming and there is one
    /// (with its folder), otherwise the networks from `init` with the data-dependent inits.
    fn start(
        &self,
        init: impl FnOnce(&SeededInit<B>) -> Result<(T::Generator, T::Discriminator)>,
        resume: bool,
        checkpoints: &CheckpointDir,
    ) -> Result<(Run<B, T>, Option<PathBuf>)> {
        let latest = if resume { checkpoints.latest()? } else { None };
        if resume && latest.is_none() {
            let root = checkpoints.root().display();
            say(
                self.bar,
                format!("no checkpoint under {root}: starting from scratch"),
            );
        }
        let settings = self.settings;
        let cluster = self.parallel.cluster();
        if let Some(cluster) = cluster {
            // First: a node that starts afresh while another resumes would pair the data
            // inits' exchanges with the other's training exchanges.
            let step = latest.as_ref().map_or(0, |&(step, _)| step);
            cluster.check_same_step(step, self.device)?;
        }
        let (mut generator, discriminator) = init(&SeededInit::new(settings.seed, self.device))?;
        if latest.is_none() {
            generator = init_from_data(
                self.task,
                generator,
                (self.loader, cluster),
                settings.schedule,
                self.bar,
                self.device,
            )?;
            if let Some(cluster) = cluster {
                // The encoder's data init read this node's clips only.
                generator = weights_of_leader(cluster, generator)?;
            }
        }
        let run = Run::new(
            generator,
            discriminator,
            settings.optimizer,
            settings.schedule.ema_decay,
        );
        let Some((step, dir)) = latest else {
            return Ok((run, None));
        };
        let run = run.load(&dir, step, self.device)?;
        say(
            self.bar,
            format!("resumed from {} (step {step})", dir.display()),
        );
        Ok((run, Some(dir)))
    }

    /// Step `run.state.step` on `batch`: the run after it, and the batch's losses (`None` when
    /// a non-finite loss skipped the update, as `schedule.on_non_finite = "skip"` asks).
    fn step(
        &self,
        mut run: Run<B, T>,
        batch: &BatchOf<B, T>,
        usage: &mut CodebookUsage,
    ) -> Result<(Run<B, T>, Option<Trained>)> {
        // Another thread's autodiff could otherwise drop part of this step's graph (see
        // simvq_quant::autodiff_lock); held until the updates, not over logging and I/O.
        let _autodiff = autodiff_lock();
        let step = run.state.step;
        let schedule = self.settings.schedule;
        // A checkpoint does not hold the dropout generator: seed it from (seed, step) so a
        // resumed run draws what the uninterrupted one would.
        self.task
            .seed_step(&run.generator, step_seed(self.settings.seed, step));
        if schedule.codebook_init == CodebookInit::Data && step < schedule.codebook_refit_steps {
            run.generator = self.refit(run.generator, batch, step)?;
        }
        let (grads, losses, examples) = self.parallel.gradients(self.task, &run, batch, usage)?;
        if let Some(what) = losses.non_finite() {
            if schedule.on_non_finite == NonFinitePolicy::Stop {
                self.bar.abandon();
                return Err(TrainError::NonFinite {
                    step: step + 1,
                    what: what.into(),
                });
            }
            let line = format!("step {}: non-finite {what} loss, batch skipped", step + 1);
            say(self.bar, line);
            run.state.non_finite_skips += 1;
            return Ok((run, None));
        }
        let lr = self
            .settings
            .optimizer
            .learning_rate_at(step, schedule.steps);
        run = grads.apply(lr, run);
        run.ema.update(&run.generator);
        Ok((run, Some((losses, examples))))
    }

    /// `generator` with its codebook moved towards the latents of step `step`'s batch (and
    /// the next ones when one batch holds too few): early on the encoder's latents move
    /// faster than the codes can follow, so the codebook is kept on them until the encoder
    /// settles. A non-finite fit keeps the codebook when skipping (the step's losses will be
    /// skipped too).
    fn refit(
        &self,
        generator: T::Generator,
        batch: &BatchOf<B, T>,
        step: usize,
    ) -> Result<T::Generator> {
        let schedule = self.settings.schedule;
        let fit = Fit {
            rows_per_dim: REFIT_ROWS_PER_DIM,
            rate: schedule.codebook_refit_rate,
        };
        let refit = fit_codebook_to_data(
            self.task,
            generator.clone(),
            (self.loader, self.parallel.cluster()),
            step,
            Some(batch),
            fit,
            self.device,
        );
        match (refit, schedule.on_non_finite) {
            (Ok((refitted, _, _)), _) => Ok(refitted),
            (Err(TrainError::NonFinite { .. }), NonFinitePolicy::Skip) => Ok(generator),
            (Err(e), _) => Err(e),
        }
    }

    /// Reports the files the loader could not read since the last call, and records them.
    fn note_skipped_files(&self, state: &mut TrainState) {
        for skipped in self.loader.take_skipped() {
            let path = skipped.path.display();
            say(
                self.bar,
                format!("skipped unreadable file {path}: {}", skipped.reason),
            );
            state.skipped_files.push(path.to_string());
        }
    }

    /// Closes the logging window: a log line, the bar's message, an entry of the loss curve.
    /// A window whose every batch was skipped logs nothing.
    fn log(
        &self,
        window: &mut Window,
        usage: &mut CodebookUsage,
        state: &mut TrainState,
    ) -> Result<()> {
        if window.is_empty() {
            return Ok(());
        }
        let unit = self.task.unit();
        let all_nodes = match self.parallel.cluster() {
            Some(cluster) => cluster.sum_usage(usage, self.device)?,
            None => usage.clone(),
        };
        let steps = self.settings.schedule.steps;
        let (entry, line) = window.close(state.step, steps, &all_nodes, unit);
        usage.reset();
        let headline = <T::Losses as LossRecord>::RECONSTRUCTION;
        self.bar.set_message(format!(
            "{headline} {:.4} util {:.1}% {:.1} {unit}/s",
            entry.losses[headline],
            100.0 * entry.utilization,
            entry.examples_per_second,
        ));
        say(self.bar, line);
        state.history.push(entry);
        Ok(())
    }
}

/// The dropout seed of step `step` (SplitMix64 of the run seed and the step).
fn step_seed(seed: u64, step: usize) -> u64 {
    let mut z = seed ^ (step as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
