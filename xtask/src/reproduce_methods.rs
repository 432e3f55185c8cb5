//! The quantizers `reproduce image` (Table 1's rows) and `reproduce audio` compare, and how
//! each becomes a training config: the same autoencoder, data, optimizer, seed and number of
//! steps for every method, only the quantizer (and its init) differing.

use std::path::Path;

use anyhow::{bail, Result};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use simvq_quant::{
    EmaVqConfig, FrozenCodebook, FsqConfig, LfqConfig, QuantizerConfig, SimVqConfig, VqConfig,
};
use simvq_train::{AudioTrainConfig, CodebookInit, ImageTrainConfig, ScheduleSettings};

/// What is tokenized: the names of some methods differ (a VQGAN is an image model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modality {
    /// `reproduce image`.
    Image,
    /// `reproduce audio`.
    Audio,
}

/// A row family of Table 1 (for audio, of Table 2's trained codecs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// SimVQ with this project's data-dependent init (`W`, `b` fitted to the latents every
    /// step: the CPU demo's recipe), at each of `--sizes`.
    Simvq,
    /// SimVQ initialised as the reference does (`W`, `b` as `nn.Linear`), at each of `--sizes`.
    SimvqReferenceInit,
    /// VQGAN: a learned codebook of `dim`-wide codes (taming's VQ); for audio the same plain
    /// VQ in the codec.
    Vqgan,
    /// VQGAN-EMA: a codebook set to the running mean of the vectors assigned to each code,
    /// started by k-means on the first batch, dead codes restarted from the batch: EnCodec's
    /// quantizer, which WavTokenizer's codec uses.
    VqganEma,
    /// VQGAN-FC: factorized 8-wide codes, l2-normalised (cosine search).
    VqganFc,
    /// FSQ: finite scalar quantization (levels whose product is K).
    Fsq,
    /// LFQ: lookup-free quantization, log2 K bits.
    Lfq,
    /// VQGAN-LC style: a frozen codebook of real-image features (here the training images'
    /// own pixel patches, one per token position, since no pretrained encoder is at hand)
    /// with a learned linear projector. Images only.
    VqganLc,
}

impl Method {
    /// Every method, in the order of the results table.
    pub const ALL: [Method; 8] = [
        Method::Vqgan,
        Method::VqganEma,
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
    pub fn label(self, modality: Modality) -> &'static str {
        match (self, modality) {
            (Method::Vqgan, Modality::Audio) => "VQ (learned codebook)",
            (Method::VqganEma, Modality::Audio) => "VQ-EMA + k-means (WavTokenizer's)",
            (Method::VqganFc, Modality::Audio) => "VQ-FC (factorized, l2)",
            _ => self.image_label(),
        }
    }

    fn image_label(self) -> &'static str {
        match self {
            Method::Simvq => "SimVQ (data init)",
            Method::SimvqReferenceInit => "SimVQ (reference init)",
            Method::Vqgan => "VQGAN",
            Method::VqganEma => "VQGAN-EMA",
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
    pub fn image_config(
        self,
        base: &ImageTrainConfig,
        k: usize,
        features: &Path,
    ) -> Result<ImageTrainConfig> {
        let mut config = base.clone();
        let dim = config.model.autoencoder.z_channels;
        let seed = config.model.quantizer.seed;
        config.model.quantizer.codebook_size = k;
        self.start_as_published(&mut config.schedule);
        config.baseline = self.baseline(k, dim, seed, Some(features))?;
        Ok(config)
    }

    /// `base` (the scale's SimVQ codec) with this method's quantizer of `k` codes.
    pub fn audio_config(self, base: &AudioTrainConfig, k: usize) -> Result<AudioTrainConfig> {
        let mut config = base.clone();
        let dim = config.model.quantizer.dim;
        let seed = config.model.quantizer.seed;
        config.model.quantizer.codebook_size = k;
        self.start_as_published(&mut config.schedule);
        config.baseline = self.baseline(k, dim, seed, None)?;
        Ok(config)
    }

    /// Only SimVQ has the data-dependent codebook init; every other method starts as
    /// published.
    fn start_as_published(self, schedule: &mut ScheduleSettings) {
        if self != Method::Simvq {
            schedule.codebook_init = CodebookInit::Random;
        }
    }

    /// The quantizer in SimVQ's place (`None`: SimVQ itself), `k` codes of width `dim`;
    /// `features` is the frozen codebook file of [`Method::VqganLc`], which has none without.
    fn baseline(
        self,
        k: usize,
        dim: usize,
        seed: u64,
        features: Option<&Path>,
    ) -> Result<Option<QuantizerConfig>> {
        Ok(match self {
            Method::Simvq | Method::SimvqReferenceInit => None,
            Method::Vqgan => Some(QuantizerConfig::Vq(vq(k, dim, seed))),
            // EnCodec's defaults (WavTokenizer keeps them): decay 0.99, k-means on the first
            // batch, codes whose running count falls below 2 restarted.
            Method::VqganEma => Some(QuantizerConfig::EmaVq(
                EmaVqConfig::new()
                    .with_codebook_size(k)
                    .with_dim(dim)
                    .with_seed(seed)
                    .with_decay(0.99)
                    .with_kmeans_init(true)
                    .with_dead_code_threshold(2.0),
            )),
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
            Method::VqganLc => {
                let Some(features) = features else {
                    bail!(
                        "vqgan-lc draws its frozen codebook from image patches; it compares \
                         image tokenizers only (leave it out of --methods)"
                    );
                };
                Some(QuantizerConfig::SimVq(
                    SimVqConfig::new()
                        .with_codebook_size(k)
                        .with_dim(dim)
                        .with_seed(seed)
                        .with_frozen_codebook(FrozenCodebook::File(features.display().to_string())),
                ))
            }
        })
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

    #[test]
    fn audio_names_its_plain_vq_without_the_image_model() {
        assert_eq!(Method::Vqgan.label(Modality::Image), "VQGAN");
        assert_eq!(
            Method::Vqgan.label(Modality::Audio),
            "VQ (learned codebook)"
        );
        assert_eq!(Method::Fsq.label(Modality::Audio), "FSQ");
    }
}
