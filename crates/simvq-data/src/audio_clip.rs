//! The reference's audio examples: a file decoded to mono at the model's rate, then either a
//! random fixed-length crop (training and validation; clips shorter than the crop are
//! repeated end to end, not zero-padded) or the whole utterance (test).

use std::path::{Path, PathBuf};

use rand::{rngs::StdRng, RngExt};

use crate::audio_decode::load_audio;
use crate::error::{DataError, Result};
use crate::loader::{Example, Loader};

/// Batches of audio examples.
pub type AudioLoader = Loader<AudioClip>;

/// How an audio file becomes an example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioClip {
    /// The model's sample rate; other rates are resampled.
    pub sample_rate: u32,
    /// Samples per example (`clip_seconds × sample_rate`), or `None` for whole utterances.
    pub length: Option<usize>,
}

/// A batch of mono waveforms, zero-padded at the end to the longest.
#[derive(Debug, Clone)]
pub struct AudioBatch {
    /// `[batch, samples]` values, row-major.
    pub samples: Vec<f32>,
    /// `[batch, samples]`; `batch` is smaller than asked when files were skipped.
    pub shape: [usize; 2],
    /// The length of each example before padding.
    pub lengths: Vec<usize>,
    /// The file of each example.
    pub paths: Vec<PathBuf>,
}

/// A random `length`-sample window of `samples` (start uniform in `[0, len − length)`, as the
/// reference draws it); a clip no longer than `length` is repeated from its start to fill it.
pub fn crop_or_tile(samples: &[f32], length: usize, rng: &mut StdRng) -> Vec<f32> {
    if samples.len() > length {
        let start = rng.random_range(0..samples.len() - length);
        samples[start..start + length].to_vec()
    } else {
        samples.iter().copied().cycle().take(length).collect()
    }
}

impl Example for AudioClip {
    type Item = Vec<f32>;
    type Batch = AudioBatch;

    fn validate(&self) -> Result<()> {
        if self.sample_rate == 0 || self.length == Some(0) {
            return Err(DataError::InvalidSetting(
                "the sample rate and the clip length must be at least 1".into(),
            ));
        }
        Ok(())
    }

    fn load(&self, path: &Path, rng: &mut StdRng) -> Result<Vec<f32>> {
        let samples = load_audio(path, self.sample_rate)?;
        Ok(match self.length {
            Some(length) => crop_or_tile(&samples, length, rng),
            None => samples,
        })
    }

    fn collate(&self, items: Vec<Vec<f32>>, paths: Vec<PathBuf>) -> AudioBatch {
        let longest = items.iter().map(Vec::len).max().unwrap_or(0);
        let mut samples = Vec::with_capacity(items.len() * longest);
        let lengths = items.iter().map(Vec::len).collect();
        for item in &items {
            samples.extend_from_slice(item);
            samples.resize(samples.len() + longest - item.len(), 0.0);
        }
        AudioBatch {
            samples,
            shape: [items.len(), longest],
            lengths,
            paths,
        }
    }
}
