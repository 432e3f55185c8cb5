//! Batches of preprocessed images: a seeded order per epoch, decoding on all cores, and
//! unreadable files skipped, counted and named instead of stopping a run.

use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

use rand::seq::SliceRandom;
use rand::{rngs::StdRng, SeedableRng};
use rayon::prelude::*;

use crate::error::{DataError, Result};
use crate::image_folder::ImageFolder;
use crate::image_transform::{decode_rgb, push_chw, ImageTransform};

/// A batch of images, channel-first, in `[-1, 1]`.
#[derive(Debug, Clone)]
pub struct ImageBatch {
    /// `[batch, 3, size, size]` values, row-major.
    pub pixels: Vec<f32>,
    /// `[batch, 3, size, size]`; `batch` is smaller than asked when files were skipped.
    pub shape: [usize; 4],
    /// The file of each image.
    pub paths: Vec<PathBuf>,
}

/// A file left out of training, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFile {
    /// The file.
    pub path: PathBuf,
    /// The decoder's complaint.
    pub reason: String,
}

/// Serves the batches of an [`ImageFolder`] epoch by epoch.
///
/// Everything random is a function of `(seed, epoch, position)`: the order of an epoch and
/// each image's crop. A resumed run therefore sees exactly the batches the interrupted run
/// would have seen, whatever the number of threads.
#[derive(Debug)]
pub struct ImageLoader {
    folder: ImageFolder,
    transform: ImageTransform,
    batch_size: usize,
    shuffle: bool,
    seed: u64,
    skipped: Mutex<Vec<SkippedFile>>,
    /// The order of the epoch last asked for (shuffling 1.28M indices per step would cost more
    /// than the step's bookkeeping).
    order_cache: Mutex<Option<(u64, Arc<Vec<usize>>)>>,
}

impl ImageLoader {
    /// A loader over `folder`; `shuffle` for training, off for evaluation.
    pub fn new(
        folder: ImageFolder,
        transform: ImageTransform,
        batch_size: usize,
        shuffle: bool,
        seed: u64,
    ) -> Result<Self> {
        if batch_size == 0 || transform.size == 0 {
            return Err(DataError::InvalidSetting(
                "batch size and image size must be at least 1".into(),
            ));
        }
        Ok(Self {
            folder,
            transform,
            batch_size,
            shuffle,
            seed,
            skipped: Mutex::new(Vec::new()),
            order_cache: Mutex::new(None),
        })
    }

    /// The dataset.
    pub fn folder(&self) -> &ImageFolder {
        &self.folder
    }

    /// Batches per epoch; the last one may be short.
    pub fn batches_per_epoch(&self) -> usize {
        self.folder.len().div_ceil(self.batch_size)
    }

    /// The order of the files in `epoch`: a seeded permutation, or the sorted order.
    pub fn epoch_order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.folder.len()).collect();
        if self.shuffle {
            order.shuffle(&mut StdRng::seed_from_u64(mix(self.seed, epoch, u64::MAX)));
        }
        order
    }

    /// [`ImageLoader::epoch_order`], computed once per epoch.
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
    pub fn batch_at_step(&self, step: usize) -> Result<ImageBatch> {
        let per_epoch = self.batches_per_epoch();
        self.batch((step / per_epoch) as u64, step % per_epoch)
    }

    /// Batch `index` of `epoch`, decoded in parallel. Unreadable files are left out of the
    /// batch and recorded (see [`ImageLoader::take_skipped`]); only a batch with no readable
    /// file at all is an error.
    pub fn batch(&self, epoch: u64, index: usize) -> Result<ImageBatch> {
        let order = self.cached_order(epoch);
        let start = index * self.batch_size;
        if start >= order.len() {
            return Err(DataError::InvalidSetting(format!(
                "batch {index} is past the end of the epoch ({} batches)",
                self.batches_per_epoch()
            )));
        }
        let positions = start..(start + self.batch_size).min(order.len());
        let decoded: Vec<_> = positions
            .into_par_iter()
            .map(|position| {
                let path = &self.folder.files()[order[position]];
                let mut rng = StdRng::seed_from_u64(mix(self.seed, epoch, position as u64));
                decode_rgb(path).map(|image| (path.clone(), self.transform.apply(&image, &mut rng)))
            })
            .collect();
        let size = self.transform.size as usize;
        let mut pixels = Vec::with_capacity(decoded.len() * 3 * size * size);
        let mut paths = Vec::with_capacity(decoded.len());
        for item in decoded {
            match item {
                Ok((path, image)) => {
                    push_chw(&image, &mut pixels);
                    paths.push(path);
                }
                Err(DataError::Unreadable { path, reason }) => self.record_skip(path, reason),
                Err(other) => return Err(other),
            }
        }
        if paths.is_empty() {
            return Err(DataError::EmptyBatch { batch: index });
        }
        Ok(ImageBatch {
            shape: [paths.len(), 3, size, size],
            pixels,
            paths,
        })
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
pub struct Prefetcher {
    batches: Receiver<Result<ImageBatch>>,
}

impl Prefetcher {
    /// Starts decoding the batches of steps `first_step, first_step + 1, …`, keeping at most
    /// `ahead` ready. The thread stops when the prefetcher is dropped.
    pub fn new(loader: Arc<ImageLoader>, first_step: usize, ahead: usize) -> Self {
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
    pub fn next_batch(&self) -> Result<ImageBatch> {
        self.batches.recv().unwrap_or_else(|_| {
            Err(DataError::InvalidSetting(
                "the prefetch thread stopped".into(),
            ))
        })
    }
}
