//! Codebook usage statistics: how many codes a model actually uses.
//!
//! Counts live on the host as plain `u64`s: a `[K]` histogram is small even at K = 262,144
//! (2 MiB), merging two is a loop, and the same accumulator serves logs (per step) and
//! evaluation (over a whole data set, across batches and devices).

use burn::tensor::{backend::Backend, Int, Tensor};

use crate::error::{QuantError, Result};

/// Per-code counts accumulated over any number of batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodebookUsage {
    counts: Vec<u64>,
}

impl CodebookUsage {
    /// An empty accumulator for a codebook of `codebook_size` codes.
    pub fn new(codebook_size: usize) -> Self {
        Self {
            counts: vec![0; codebook_size],
        }
    }

    /// An accumulator holding `counts` (one per code), e.g. the sum of other accumulators'
    /// counts exchanged between processes.
    pub fn from_counts(counts: Vec<u64>) -> Self {
        Self { counts }
    }

    /// Adds indices of any shape (one read-back from the device).
    pub fn update<B: Backend, const D: usize>(
        &mut self,
        indices: &Tensor<B, D, Int>,
    ) -> Result<()> {
        let data = indices.to_data();
        self.update_from(data.iter::<i64>())
    }

    /// Adds indices already on the host.
    pub fn update_from(&mut self, indices: impl IntoIterator<Item = i64>) -> Result<()> {
        let size = self.counts.len();
        for index in indices {
            let slot = usize::try_from(index)
                .ok()
                .and_then(|i| self.counts.get_mut(i))
                .ok_or(QuantError::IndexOutOfRange {
                    index,
                    codebook_size: size,
                })?;
            *slot += 1;
        }
        Ok(())
    }

    /// Adds another accumulator's counts (e.g. from another device or data shard).
    pub fn merge(&mut self, other: &CodebookUsage) -> Result<()> {
        if other.counts.len() != self.counts.len() {
            return Err(QuantError::UsageSizeMismatch {
                left: self.counts.len(),
                right: other.counts.len(),
            });
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        Ok(())
    }

    /// Forgets all counts (e.g. at the start of a logging window).
    pub fn reset(&mut self) {
        self.counts.fill(0);
    }

    /// Count of every code.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Number of codes `K`.
    pub fn codebook_size(&self) -> usize {
        self.counts.len()
    }

    /// Number of tokens counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Number of codes used at least once.
    pub fn used_codes(&self) -> usize {
        self.counts.iter().filter(|&&c| c > 0).count()
    }

    /// Number of codes never used.
    pub fn dead_codes(&self) -> usize {
        self.codebook_size() - self.used_codes()
    }

    /// Fraction of codes used at least once, in `[0, 1]` (the reference's "utilization").
    pub fn utilization(&self) -> f64 {
        if self.counts.is_empty() {
            return 0.0;
        }
        self.used_codes() as f64 / self.codebook_size() as f64
    }

    /// `exp(H)` of the code distribution: the number of equally used codes with the same
    /// entropy, from 1 (one code) to `K` (uniform). 0 when nothing was counted.
    pub fn perplexity(&self) -> f64 {
        let total = self.total();
        if total == 0 {
            return 0.0;
        }
        let total = total as f64;
        let entropy: f64 = self
            .counts
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| {
                let p = c as f64 / total;
                -p * p.ln()
            })
            .sum();
        entropy.exp()
    }
}
