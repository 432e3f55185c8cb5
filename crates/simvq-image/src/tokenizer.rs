//! The tokenizer: encoder → SimVQ (or another quantizer, for comparisons) → decoder, and its
//! public encode/decode API.

use burn::module::Module;
use burn::tensor::{backend::Backend, Int, Tensor};
use simvq_quant::{QuantLoss, Quantizer, SeededInit, SimVq};

use crate::config::ImageTokenizerConfig;
use crate::decoder::Decoder;
use crate::encoder::Encoder;
use crate::error::{ImageError, Result};

impl ImageTokenizerConfig {
    /// Builds the tokenizer with PyTorch's default init drawn from seed 0
    /// ([`init_seeded`](Self::init_seeded) takes another); the quantizer is seeded by its config.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<ImageTokenizer<B>> {
        self.init_seeded(&SeededInit::new(0, device))
    }

    /// Builds the tokenizer with PyTorch's default init drawn from `init` (encoder, then
    /// decoder); the quantizer is seeded by its config.
    pub fn init_seeded<B: Backend>(&self, init: &SeededInit<B>) -> Result<ImageTokenizer<B>> {
        self.init_seeded_with(init, self.quantizer.init(init.device())?)
    }

    /// Builds the tokenizer around `quantizer` instead of the config's SimVQ (the baselines
    /// of Table 1), encoder and decoder drawn from `init` as [`init_seeded`](Self::init_seeded)
    /// draws them, so that methods compared under one seed start from the same autoencoder.
    pub fn init_seeded_with<B: Backend, Q: Module<B> + Quantizer<B>>(
        &self,
        init: &SeededInit<B>,
        quantizer: Q,
    ) -> Result<ImageTokenizer<B, Q>> {
        self.autoencoder.validate()?;
        if quantizer.dim() != self.autoencoder.z_channels {
            return Err(ImageError::InvalidConfig(format!(
                "quantizer.dim is {} but autoencoder.z_channels is {}; they must be equal",
                quantizer.dim(),
                self.autoencoder.z_channels
            )));
        }
        Ok(ImageTokenizer {
            encoder: self.autoencoder.init_encoder(init),
            quantizer,
            decoder: self.autoencoder.init_decoder(init),
            image_channels: self.autoencoder.image_channels,
            downsample_factor: self.autoencoder.downsample_factor(),
        })
    }
}

/// What one training forward pass produces.
#[derive(Debug, Clone)]
pub struct TokenizerOutput<B: Backend> {
    /// Reconstruction `[B, C, H, W]`, unclamped (training uses it raw).
    pub reconstruction: Tensor<B, 4>,
    /// Code indices `[B, H/f, W/f]`.
    pub indices: Tensor<B, 3, Int>,
    /// The quantizer's loss terms.
    pub quant_loss: QuantLoss<B>,
}

/// The SimVQ image tokenizer. Build it with [`crate::ImageTokenizerConfig::init`]; `Q` is
/// another quantizer only in comparisons
/// ([`init_seeded_with`](crate::ImageTokenizerConfig::init_seeded_with)).
///
/// Images are `[batch, channels, height, width]` in `[-1, 1]`; height and width must be
/// multiples of the downsampling factor (8 for the reference), giving `[batch, H/8, W/8]`
/// tokens (16×16 = 256 for 128² images).
#[derive(Module, Debug)]
pub struct ImageTokenizer<B: Backend, Q: Module<B> = SimVq<B>> {
    /// Image → latent.
    pub encoder: Encoder<B>,
    /// Latent → codes (SimVQ's `E = C·Wᵀ + b`).
    pub quantizer: Q,
    /// Codes → image.
    pub decoder: Decoder<B>,
    pub(crate) image_channels: usize,
    pub(crate) downsample_factor: usize,
}

impl<B: Backend, Q: Module<B> + Quantizer<B>> ImageTokenizer<B, Q> {
    /// Spatial downsampling factor `f` (pixels per token side).
    pub fn downsample_factor(&self) -> usize {
        self.downsample_factor
    }

    /// Number of codes `K`.
    pub fn codebook_size(&self) -> usize {
        self.quantizer.codebook_size()
    }

    /// Token grid `[H/f, W/f]` of an image of `height × width`, or an error naming the fix.
    pub fn token_grid(&self, height: usize, width: usize) -> Result<[usize; 2]> {
        let f = self.downsample_factor;
        if height == 0 || width == 0 || !height.is_multiple_of(f) || !width.is_multiple_of(f) {
            return Err(ImageError::Shape(format!(
                "image of {height}×{width}: height and width must be positive multiples of {f} \
                 (resize or crop the images)"
            )));
        }
        Ok([height / f, width / f])
    }

    fn check_images(&self, images: &Tensor<B, 4>) -> Result<()> {
        let [_, channels, height, width] = images.dims();
        if channels != self.image_channels {
            return Err(ImageError::Shape(format!(
                "images have {channels} channels, the tokenizer takes {} ([batch, channels, \
                 height, width])",
                self.image_channels
            )));
        }
        self.token_grid(height, width).map(|_| ())
    }

    /// Training forward pass: reconstruction, indices and quantizer loss.
    pub fn forward(&self, images: Tensor<B, 4>) -> Result<TokenizerOutput<B>> {
        self.check_images(&images)?;
        let latent = self.encoder.forward(images);
        let quantized = self.quantizer.forward_2d(latent)?;
        Ok(TokenizerOutput {
            reconstruction: self.decoder.forward(quantized.quantized),
            indices: quantized.indices,
            quant_loss: quantized.loss,
        })
    }

    /// The encoder's latents of `images` before quantization, one row per token position:
    /// `[B·(H/f)·(W/f), D]` in row-major token order.
    pub fn latents(&self, images: Tensor<B, 4>) -> Result<Tensor<B, 2>> {
        self.check_images(&images)?;
        let latent = self.encoder.forward(images);
        let [b, d, h, w] = latent.dims();
        Ok(latent.permute([0, 2, 3, 1]).reshape([b * h * w, d]))
    }

    /// Images `[B, C, H, W]` → tokens `[B, H/f, W/f]`.
    pub fn encode(&self, images: Tensor<B, 4>) -> Result<Tensor<B, 3, Int>> {
        self.check_images(&images)?;
        Ok(self.quantizer.encode_2d(self.encoder.forward(images))?)
    }

    /// Tokens `[B, h, w]` → images `[B, C, h·f, w·f]` clamped to `[-1, 1]`. Codes are looked up
    /// in the projected codebook `E = C·Wᵀ + b` (not in `C`, as the reference's
    /// `get_codebook_entry` wrongly does); out-of-range tokens are an error.
    pub fn decode_indices(&self, indices: Tensor<B, 3, Int>) -> Result<Tensor<B, 4>> {
        let codes = self.quantizer.decode_indices_2d(indices)?;
        Ok(self.decoder.forward(codes).clamp(-1.0, 1.0))
    }

    /// Encode and decode: the reconstruction as evaluation sees it (clamped to `[-1, 1]`).
    pub fn reconstruct(&self, images: Tensor<B, 4>) -> Result<Tensor<B, 4>> {
        let indices = self.encode(images)?;
        self.decode_indices(indices)
    }
}
