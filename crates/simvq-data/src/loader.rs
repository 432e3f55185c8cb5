//! Batches of preprocessed examples (images or audio): a seeded order per epoch, decoding on
//! all cores, and unreadable files skipped, counted and named instead of stopping a run.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

use rand::seq::SliceRandom;
use rand::{rngs::StdRng, SeedableRng};
use rayon::prelude::*;

use crate::error::{DataError, Result};
use crate::file_list::FileList;

/// How one file becomes one example, and examples a batch: the part of a loader that knows
/// the modality.
pub trait Example: Send + Sync + 'static {
    /// One preprocessed example.
    type Item: Send;
    /// A batch of examples.
    type Batch: Send + 'static;

    /// Refuses settings that cannot produce an example.
    fn validate(&self) -> Result<()>;

    /// Reads and preprocesses `path`; `rng` draws its random crop. An unreadable file is
    /// [`DataError::Unreadable`].
    fn load(&self, path: &Path, rng: &mut StdRng) -> Result<Self::Item>;

    /// Joins the examples read for a batch (at least one), with their files.
    fn collate(&self, items: Vec<Self::Item>, paths: Vec<PathBuf>) -> Self::Batch;
}

/// A file left out of training, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFile {
    /// The file.
    pub path: PathBuf,
    /// The decoder's complaint.
    pub reason: String,
}

/// Serves the batches of a [`FileList`] epoch by epoch.
///
/// Everything random is a function of `(seed, epoch, position)`: the order of an epoch and
/// each example's crop. A resumed run therefore sees exactly the batches the interrupted run
/// would have seen, whatever the number of threads.
#[derive(Debug)]
pub struct Loader<E: Example> {
    files: FileList,
    example: E,
    batch_size: usize,
    shuffle: bool,
    seed: u64,
    skipped: Mutex<Vec<SkippedFile>>,
    /// `(index, count)`: this loader serves slice `index` of `count` of every batch.
    shard: (usize, usize),
    /// The order of the epoch last asked for (shuffling 1.28M indices per step would cost more
    /// than the step's bookkeeping).
    order_cache: Mutex<Option<(u64, Arc<Vec<usize>>)>>,
}

impl<E: Example> Loader<E> {
    /// A loader over `files`; `shuffle` for training, off for evaluation.
    pub fn new(
        files: FileList,
        example: E,
        batch_size: usize,
        shuffle: bool,
        seed: u64,
    ) -> Result<Self> {
        if batch_size == 0 {
            return Err(DataError::InvalidSetting(
                "the batch size must be at least 1".into(),
            ));
        }
        example.validate()?;
        Ok(Self {
            files,
            example,
            batch_size,
            shuffle,
            seed,
            skipped: Mutex::new(Vec::new()),
            shard: (0, 1),
            order_cache: Mutex::new(None),
        })
    }

    /// This loader serving only slice `index` of `count` of each batch (the processes of a
    /// multi-node run each load their own): slices as even as possible, larger ones first,
    /// in batch order, so the slices of one batch together are the whole batch, with the
    /// same crops. Batch counts stay those of the whole batches, except that an epoch's last
    /// batch is dropped when it has fewer files than `count` (one process keeps it).
    pub fn with_shard(mut self, index: usize, count: usize) -> Result<Self> {
        if count == 0 || index >= count {
            return Err(DataError::InvalidSetting(format!(
                "data shard {index} of {count}: the shard index must be below the count"
            )));
        }
        if count > self.batch_size {
            return Err(DataError::InvalidSetting(format!(
                "a batch of {} cannot be split over {count} processes: raise the batch size \
                 to at least the number of nodes",
                self.batch_size
            )));
        }
        if count > self.files.len() {
            return Err(DataError::InvalidSetting(format!(
                "{} training files cannot be split over {count} processes",
                self.files.len()
            )));
        }
        self.shard = (index, count);
        Ok(self)
    }

    /// The dataset.
    pub fn files(&self) -> &FileList {
        &self.files
    }

    /// How files become examples.
    pub fn example(&self) -> &E {
        &self.example
    }

    /// Batches per epoch; the last one may be short, but not shorter than the shard count
    /// (a sharded loader drops a last batch that would leave some shard empty).
    pub fn batches_per_epoch(&self) -> usize {
        let (whole, rest) = (
            self.files.len() / self.batch_size,
            self.files.len() % self.batch_size,
        );
        whole + usize::from(rest > 0 && rest >= self.shard.1)
    }

    /// The order of the files in `epoch`: a seeded permutation, or the sorted order.
    pub fn epoch_order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.files.len()).collect();
        if self.shuffle {
            order.shuffle(&mut StdRng::seed_from_u64(mix(self.seed, epoch, u64::MAX)));
        }
        order
    }

    /// [`Loader::epoch_order`], computed once per epoch.
    fn cached_order(&self, epoch: u64) -> Arc<Vec<usize>> {
        let mut cache = self.order_cache.lock().unwrap_or_else(|e| e.into_inner());
        match &*cache {
            Some((cached, order)) if *cached == epoch => order.clone(),
            _ => {
                let order = Arc::new(self.epoch_order(epoch));
                *cache = Some((epoch, order.clone()));
                order
            }
        }
    }

    /// The batch of training step `step` (0-based): batch `step mod n` of epoch `step div n`.
    pub fn batch_at_step(&self, step: usize) -> Result<E::Batch> {
        let per_epoch = self.batches_per_epoch();
        self.batch((step / per_epoch) as u64, step % per_epoch)
    }

    /// Batch `index` of `epoch`, decoded in parallel. Unreadable files are left out of the
    /// batch and recorded (see [`Loader::take_skipped`]); only a batch with no readable
    /// file at all is an error.
    pub fn batch(&self, epoch: u64, index: usize) -> Result<E::Batch> {
        let order = self.cached_order(epoch);
        let start = index * self.batch_size;
        if start >= order.len() {
            return Err(DataError::InvalidSetting(format!(
                "batch {index} is past the end of the epoch ({} batches)",
                self.batches_per_epoch()
            )));
        }
        let positions = self.my_slice(start..(start + self.batch_size).min(order.len()));
        let decoded: Vec<_> = positions
            .into_par_iter()
            .map(|position| {
                let path = &self.files.files()[order[position]];
                let mut rng = StdRng::seed_from_u64(mix(self.seed, epoch, position as u64));
                self.example
                    .load(path, &mut rng)
                    .map(|item| (path.clone(), item))
            })
            .collect();
        let mut items = Vec::with_capacity(decoded.len());
        let mut paths = Vec::with_capacity(decoded.len());
        for item in decoded {
            match item {
                Ok((path, item)) => {
                    items.push(item);
                    paths.push(path);
                }
                Err(DataError::Unreadable { path, reason }) => self.record_skip(path, reason),
                Err(other) => return Err(other),
            }
        }
        if paths.is_empty() {
            return Err(DataError::EmptyBatch { batch: index });
        }
        Ok(self.example.collate(items, paths))
    }

    /// This loader's slice of a batch's positions.
    fn my_slice(&self, positions: std::ops::Range<usize>) -> std::ops::Range<usize> {
        let (index, count) = self.shard;
        let (len, start) = (positions.len(), positions.start);
        let size = |i: usize| len / count + usize::from(i < len % count);
        let from = start + (0..index).map(size).sum::<usize>();
        from..from + size(index)
    }

    fn record_skip(&self, path: PathBuf, reason: String) {
        let mut skipped = self.skipped.lock().unwrap_or_else(|e| e.into_inner());
        if !skipped.iter().any(|s| s.path == path) {
            skipped.push(SkippedFile { path, reason });
        }
    }

    /// The files skipped since the last call (each file once per loader), for the log.
    pub fn take_skipped(&self) -> Vec<SkippedFile> {
        std::mem::take(&mut *self.skipped.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// A seed for one `(seed, epoch, position)` triple (SplitMix64 finaliser over the three).
fn mix(seed: u64, epoch: u64, position: u64) -> u64 {
    let mut z = seed
        ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ position.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The batches of consecutive training steps, decoded ahead on a background thread so the
/// next batch is ready when a step ends.
#[derive(Debug)]
pub struct Prefetcher<T> {
    batches: Receiver<Result<T>>,
}

impl<T: Send + 'static> Prefetcher<T> {
    /// Starts decoding the batches of steps `first_step, first_step + 1, …`, keeping at most
    /// `ahead` ready. The thread stops when the prefetcher is dropped.
    pub fn new<E: Example<Batch = T>>(
        loader: Arc<Loader<E>>,
        first_step: usize,
        ahead: usize,
    ) -> Self {
        let (sender, batches) = sync_channel(ahead.max(1));
        std::thread::spawn(move || {
            for step in first_step.. {
                if sender.send(loader.batch_at_step(step)).is_err() {
                    break;
                }
            }
        });
        Self { batches }
    }

    /// The next step's batch.
    pub fn next_batch(&self) -> Result<T> {
        self.batches.recv().unwrap_or_else(|_| {
            Err(DataError::InvalidSetting(
                "the prefetch thread stopped".into(),
            ))
        })
    }
}
