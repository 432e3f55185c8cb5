//! Configuration of the image tokenizer, defaulting to the reference's `imagenet_simvq_128_B`.

use burn::config::Config;
use simvq_quant::SimVqConfig;

use crate::blocks::NORM_GROUPS;
use crate::error::ImageError;

/// Encoder/decoder widths and depths (the reference's `ddconfig`).
#[derive(Config, Debug, PartialEq)]
pub struct AutoencoderConfig {
    /// Base width `ch`.
    #[config(default = 128)]
    pub channels: usize,
    /// Width multiplier per resolution level; `len − 1` 2× down/upsamplings.
    #[config(default = "vec![1, 2, 2, 4]")]
    pub channel_multipliers: Vec<usize>,
    /// Residual blocks per level (and in the middle).
    #[config(default = 2)]
    pub res_blocks: usize,
    /// Width of the latent that is quantized (the code dimension).
    #[config(default = 128)]
    pub z_channels: usize,
    /// Image channels in and out.
    #[config(default = 3)]
    pub image_channels: usize,
}

impl AutoencoderConfig {
    /// Spatial downsampling factor: `2^(levels − 1)` (8 for the reference).
    pub fn downsample_factor(&self) -> usize {
        1 << self.channel_multipliers.len().saturating_sub(1)
    }

    /// Width of level `i`.
    pub(crate) fn width(&self, level: usize) -> usize {
        self.channels * self.channel_multipliers[level]
    }

    /// Refuses configs the architecture cannot build, saying which value to change.
    pub fn validate(&self) -> Result<(), ImageError> {
        let bad = |m: String| Err(ImageError::InvalidConfig(m));
        if self.channel_multipliers.is_empty() || self.res_blocks == 0 {
            return bad("channel_multipliers and res_blocks must not be empty or zero".into());
        }
        if self.z_channels == 0 || self.image_channels == 0 {
            return bad("z_channels and image_channels must be at least 1".into());
        }
        for (level, &m) in self.channel_multipliers.iter().enumerate() {
            let width = self.channels * m;
            if width == 0 || !width.is_multiple_of(NORM_GROUPS) {
                return bad(format!(
                    "level {level} has width {width} (channels {} × {m}); GroupNorm needs a \
                     positive multiple of {NORM_GROUPS}",
                    self.channels
                ));
            }
        }
        Ok(())
    }
}

/// The whole tokenizer: autoencoder plus SimVQ.
#[derive(Config, Debug)]
pub struct ImageTokenizerConfig {
    /// Encoder and decoder.
    pub autoencoder: AutoencoderConfig,
    /// The quantizer; its `dim` must equal `autoencoder.z_channels`.
    pub quantizer: SimVqConfig,
}

impl ImageTokenizerConfig {
    /// The reference's `imagenet_simvq_128_B` with `codebook_size` codes (1,024 … 262,144).
    pub fn reference(codebook_size: usize) -> Self {
        Self::new(
            AutoencoderConfig::new(),
            SimVqConfig::new()
                .with_codebook_size(codebook_size)
                .with_dim(128),
        )
    }
}
