//! The tokenizers `reproduce image` compares (Table 1's rows) and how each becomes a training
//! config: the same autoencoder, data, optimizer, seed and number of steps for every method,
//! only the quantizer (and its init) differing.

use std::path::Path;

use anyhow::{bail, Result};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use simvq_quant::{FrozenCodebook, FsqConfig, LfqConfig, QuantizerConfig, SimVqConfig, VqConfig};
use simvq_train::{CodebookInit, ImageTrainConfig};

/// A row family of Table 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// SimVQ with this project's data-dependent init (`W`, `b` fitted to the latents every
    /// step: the CPU demo's recipe), at each of `--sizes`.
    Simvq,
    /// SimVQ initialised as the reference does (`W`, `b` as `nn.Linear`), at each of `--sizes`.
    SimvqReferenceInit,
    /// VQGAN: a learned codebook of `dim`-wide codes (taming's VQ).
    Vqgan,
    /// VQGAN-FC: factorized 8-wide codes, l2-normalised (cosine search).
    VqganFc,
    /// FSQ: finite scalar quantization (levels whose product is K).
    Fsq,
    /// LFQ: lookup-free quantization, log2 K bits.
    Lfq,
    /// VQGAN-LC style: a frozen codebook of real-image features (here the training images'
    /// own pixel patches, one per token position, since no pretrained encoder is at hand)
    /// with a learned linear projector.
    VqganLc,
}

impl Method {
    /// Every method, in the order of the results table.
    pub const ALL: [Method; 7] = [
        Method::Vqgan,
        Method::VqganFc,
        Method::Fsq,
        Method::Lfq,
        Method::VqganLc,
        Method::SimvqReferenceInit,
        Method::Simvq,
    ];

    /// Whether the method runs at every size of `--sizes` (SimVQ) or once at the baselines'.
    pub fn sweeps_sizes(self) -> bool {
        matches!(self, Method::Simvq | Method::SimvqReferenceInit)
    }

    /// The name in the results table.
    pub fn label(self) -> &'static str {
        match self {
            Method::Simvq => "SimVQ (data init)",
            Method::SimvqReferenceInit => "SimVQ (reference init)",
            Method::Vqgan => "VQGAN",
            Method::VqganFc => "VQGAN-FC",
            Method::Fsq => "FSQ",
            Method::Lfq => "LFQ",
            Method::VqganLc => "VQGAN-LC style",
        }
    }

    /// The run's folder name under `--out`.
    pub fn slug(self, k: usize) -> String {
        let name = self
            .to_possible_value()
            .map_or_else(String::new, |v| v.get_name().to_owned());
        format!("{name}-{k}")
    }

    /// `base` (the scale's SimVQ config) with this method's quantizer of `k` codes; `features`
    /// is the frozen codebook file of [`Method::VqganLc`].
    pub fn config(
        self,
        base: &ImageTrainConfig,
        k: usize,
        features: &Path,
    ) -> Result<ImageTrainConfig> {
        let mut config = base.clone();
        let dim = config.model.autoencoder.z_channels;
        let seed = config.model.quantizer.seed;
        config.model.quantizer.codebook_size = k;
        // Only SimVQ has the data-dependent init; every other method starts as published.
        if self != Method::Simvq {
            config.schedule.codebook_init = CodebookInit::Random;
        }
        config.baseline = match self {
            Method::Simvq | Method::SimvqReferenceInit => None,
            Method::Vqgan => Some(QuantizerConfig::Vq(vq(k, dim, seed))),
            Method::VqganFc => Some(QuantizerConfig::Vq(
                vq(k, dim, seed)
                    .with_codebook_dim(Some(8))
                    .with_l2_normalize(true),
            )),
            Method::Fsq => Some(QuantizerConfig::Fsq(
                FsqConfig::new(fsq_levels(k)?)
                    .with_dim(Some(dim))
                    .with_seed(seed),
            )),
            Method::Lfq => {
                check_power_of_two(k, "LFQ")?;
                Some(QuantizerConfig::Lfq(
                    LfqConfig::new(k).with_dim(Some(dim)).with_seed(seed),
                ))
            }
            Method::VqganLc => Some(QuantizerConfig::SimVq(
                SimVqConfig::new()
                    .with_codebook_size(k)
                    .with_dim(dim)
                    .with_seed(seed)
                    .with_frozen_codebook(FrozenCodebook::File(features.display().to_string())),
            )),
        };
        Ok(config)
    }
}

fn vq(k: usize, dim: usize, seed: u64) -> VqConfig {
    VqConfig::new()
        .with_codebook_size(k)
        .with_dim(dim)
        .with_seed(seed)
}

fn check_power_of_two(k: usize, method: &str) -> Result<()> {
    if !k.is_power_of_two() || k < 4 {
        bail!("{method} needs a codebook size that is a power of two (≥ 4), got {k}; pick another --baseline-size");
    }
    Ok(())
}

/// FSQ levels with `k` codes: the paper's `[8, 8, 8, 5, 5, 5]` for 64,000, otherwise levels of
/// 8 (and 4s for the remaining bits) for a power of two, as FSQ's paper recommends levels ≥ 5
/// where the bits allow.
pub fn fsq_levels(k: usize) -> Result<Vec<usize>> {
    if k == 64_000 {
        return Ok(vec![8, 8, 8, 5, 5, 5]);
    }
    check_power_of_two(k, "FSQ (or K = 64,000)")?;
    let bits = k.trailing_zeros() as usize;
    let mut levels = vec![8; bits / 3];
    match bits % 3 {
        0 => {}
        2 => levels.push(4),
        _ => {
            // 2^(3a+1) = 8^(a-1)·4·4 (a level of 2 would need the symmetric bound).
            levels.pop();
            levels.extend([4, 4]);
        }
    }
    Ok(levels)
}

/// The FSQ size nearest the paper's 65,536 rows (its 64,000).
pub fn fsq_size(k: usize) -> usize {
    if k == 65_536 {
        64_000
    } else {
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fsq_levels_multiply_to_k() {
        for k in [16, 32, 64, 512, 1024, 4096, 64_000] {
            let levels = fsq_levels(k).unwrap();
            assert_eq!(levels.iter().product::<usize>(), k, "{levels:?}");
            assert!(levels.iter().all(|&l| l >= 4), "{levels:?}");
        }
        assert!(fsq_levels(1000).is_err());
    }

    #[test]
    fn every_method_has_its_own_folder() {
        let slugs: std::collections::HashSet<_> = Method::ALL.iter().map(|m| m.slug(512)).collect();
        assert_eq!(slugs.len(), Method::ALL.len());
    }
}
