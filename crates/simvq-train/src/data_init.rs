//! The data-dependent inits: the audio encoder's convolutions standardised on the first
//! training clips ([`EncoderInit::Data`]), and SimVQ's `W` and `b` fitted to the encoder's
//! latents on the first batches ([`CodebookInit::Data`]), before the first step and, moving
//! part of the way, during the first steps. Why: a fresh encoder gives nearly identical
//! frames, so every frame would start on one code (`docs/quantizers.md`).

use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Tensor;
use indicatif::ProgressBar;
use simvq_data::Loader;
use simvq_quant::autodiff_lock;

use crate::cluster::Cluster;
use crate::error::{Result, TrainError};
use crate::progress::say;
use crate::schedule::{CodebookInit, EncoderInit, ScheduleSettings};
use crate::task::{BatchOf, GanTask};

/// How much data one fit of the codebook reads (latent rows per code dimension) and how far
/// it moves `W` and `b` (1: all the way).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fit {
    pub rows_per_dim: usize,
    pub rate: f64,
}

/// The training data of this process, and the other nodes that hold the rest of each batch
/// in a multi-node run.
pub(crate) type Source<'a, B, T> = (
    &'a Loader<<T as GanTask<B>>::Data>,
    Option<&'a Cluster<<B as AutodiffBackend>::InnerBackend>>,
);

/// The fit before the first step: enough latents for a well-conditioned covariance.
const INITIAL_FIT: Fit = Fit {
    rows_per_dim: 16,
    rate: 1.0,
};
/// The same for the refits of the first steps, which track a moving encoder and so must not
/// look far ahead.
pub(crate) const REFIT_ROWS_PER_DIM: usize = 4;
/// Training examples the encoder's data init reads (whole batches, at least one).
const ENCODER_INIT_EXAMPLES: usize = 16;
/// Most batches read for one fit, whatever their size.
const FIT_MAX_BATCHES: usize = 64;

/// Fits `generator`'s codebook to its latents on the training batches of steps `first`
/// (`first_batch` when the caller has it decoded already), `first + 1`, … until
/// `fit.rows_per_dim · D` latents are gathered (the loader's order is seeded, so this is
/// reproducible and a resumed run refits the same way), moving it `fit.rate` of the way. In
/// a multi-node run each node reads its slices of those batches and the fit is to all
/// nodes' latents together, so every node fits the same codebook. Returns the generator and
/// the number of latents and batches used. Its callers hold the autodiff lock.
pub(crate) fn fit_codebook_to_data<B: AutodiffBackend, T: GanTask<B>>(
    task: &T,
    generator: T::Generator,
    (loader, cluster): Source<B, T>,
    first: usize,
    first_batch: Option<&BatchOf<B, T>>,
    fit: Fit,
    device: &B::Device,
) -> Result<(T::Generator, usize, usize)> {
    let nodes = cluster.map_or(1, Cluster::nodes);
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
        if rows * nodes >= fit.rows_per_dim * d {
            break;
        }
    }
    let batches = parts.len();
    let mut latents = Tensor::cat(parts, 0);
    if let Some(cluster) = cluster {
        latents = Tensor::from_inner(cluster.gather_rows(latents.inner())?);
        rows = latents.dims()[0];
    }
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
pub(crate) fn init_from_data<B: AutodiffBackend, T: GanTask<B>>(
    task: &T,
    mut generator: T::Generator,
    source: Source<B, T>,
    schedule: &ScheduleSettings,
    bar: &ProgressBar,
    device: &B::Device,
) -> Result<T::Generator> {
    let _autodiff = autodiff_lock();
    if schedule.encoder_init == EncoderInit::Data {
        let batches = encoder_init_batches(task, source.0)?;
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
            fit_codebook_to_data(task, generator, source, 0, None, INITIAL_FIT, device)?;
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
) -> Result<Vec<BatchOf<B, T>>> {
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
