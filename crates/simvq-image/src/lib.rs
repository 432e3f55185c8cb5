//! The SimVQ image tokenizer: a VQGAN-style autoencoder (the reference's
//! `imagenet_simvq_128_B`: f8, 128² → 16×16 tokens) with SimVQ in the middle, its PatchGAN
//! discriminator, LPIPS-VGG and the image losses.
//!
//! ```
//! use burn::backend::Flex;
//! use burn::tensor::{Distribution, Tensor};
//! use simvq_image::{AutoencoderConfig, ImageTokenizerConfig};
//! use simvq_quant::SimVqConfig;
//!
//! // A narrow tokenizer for the example; `ImageTokenizerConfig::reference(65_536)` is the real one.
//! let autoencoder = AutoencoderConfig::new().with_channels(32).with_res_blocks(1).with_z_channels(8);
//! let config = ImageTokenizerConfig::new(autoencoder, SimVqConfig::new().with_codebook_size(256).with_dim(8));
//! let tokenizer = config.init::<Flex>(&Default::default())?;
//!
//! let images = Tensor::<Flex, 4>::random([1, 3, 32, 32], Distribution::Uniform(-1.0, 1.0), &Default::default());
//! let tokens = tokenizer.encode(images)?;            // [1, 4, 4]
//! let decoded = tokenizer.decode_indices(tokens)?;   // [1, 3, 32, 32], clamped to [-1, 1]
//! assert_eq!(decoded.dims(), [1, 3, 32, 32]);
//! # Ok::<(), simvq_image::ImageError>(())
//! ```

mod blocks;
mod config;
mod decoder;
mod discriminator;
mod encoder;
mod error;
mod fast_conv2d;
mod group_norm;
mod im2col;
mod loss;
mod tokenizer;

pub use blocks::{depth_to_space_dcr, ResBlock, ResBlockConfig, Upsampler};
pub use config::{AutoencoderConfig, ImageTokenizerConfig};
pub use decoder::Decoder;
pub use discriminator::{PatchDiscriminator, PatchDiscriminatorConfig};
pub use encoder::Encoder;
pub use error::{ImageError, Result};
pub use fast_conv2d::conv2d_forward;
pub use group_norm::group_norm_forward;
pub use loss::{
    discriminator_hinge_loss, non_saturating_generator_loss, GeneratorLoss, ImageLoss,
    ImageLossConfig,
};
pub use tokenizer::{ImageTokenizer, TokenizerOutput};
