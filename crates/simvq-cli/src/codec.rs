//! Files to tokens and back with a loaded model: images (PNG, JPEG, …) ↔ token grids ↔ PNG,
//! audio (WAV, FLAC, OGG, MP3) ↔ token sequences ↔ 16-bit WAV.

use std::path::Path;

use burn::tensor::{backend::Backend, Int, Tensor, TensorData};
use rand::SeedableRng;
use simvq_data::{decode_rgb, load_audio, push_chw, Augment, Crop, ImageTransform};
use simvq_run::{save_png, write_wav};

use crate::error::{CliError, Result};
use crate::model_file::{ModelConfig, ModelInfo, Tokenizer};
use crate::token_file::{Source, TokenFile};

/// How images are prepared for the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSize {
    /// Shorter side resized to this many pixels, then a centred square crop (the reference's
    /// evaluation preprocessing at 128).
    Square(u32),
    /// The image as it is, centre-cropped to a multiple of the downsampling factor.
    Native,
}

/// A loaded model: what its file says and the network.
pub struct Model<B: Backend> {
    /// The file's metadata.
    pub info: ModelInfo,
    /// The network.
    pub tokenizer: Tokenizer<B>,
}

impl<B: Backend> Model<B> {
    /// Tokenizes an image or audio file.
    pub fn encode_file(
        &self,
        input: &Path,
        size: ImageSize,
        device: &B::Device,
    ) -> Result<TokenFile> {
        let k = self.info.config.codebook_size();
        let kind = self.info.config.kind();
        let fingerprint = &self.info.fingerprint;
        match &self.tokenizer {
            Tokenizer::Image(model) => {
                let (pixels, width, height) =
                    prepare_image(input, size, model.downsample_factor())?;
                let images = Tensor::<B, 4>::from_data(
                    TensorData::new(pixels, [1, 3, height, width]),
                    device,
                );
                let tokens = model.encode(images)?;
                let [_, h, w] = tokens.dims();
                Ok(TokenFile::new(
                    kind,
                    k,
                    fingerprint,
                    vec![h, w],
                    Source::Image { width, height },
                    int_values(tokens.reshape([h * w])),
                ))
            }
            Tokenizer::Audio(model) => {
                let rate = self.sample_rate();
                let samples = load_audio(input, rate)?;
                if samples.is_empty() {
                    return Err(CliError::Input {
                        path: input.to_path_buf(),
                        message: "the file has no samples".into(),
                    });
                }
                let len = samples.len();
                let wave = Tensor::<B, 2>::from_data(TensorData::new(samples, [1, len]), device);
                let tokens = model.encode(wave)?;
                let frames = tokens.dims()[1];
                Ok(TokenFile::new(
                    kind,
                    k,
                    fingerprint,
                    vec![frames],
                    Source::Audio {
                        samples: len,
                        sample_rate: rate,
                    },
                    int_values(tokens.reshape([frames])),
                ))
            }
        }
    }

    /// The audio codec's sample rate (24 kHz for the reference); 0 for image models.
    pub fn sample_rate(&self) -> u32 {
        match &self.info.config {
            ModelConfig::Audio(c) => c.sample_rate as u32,
            ModelConfig::Image(_) => 0,
        }
    }

    /// Refuses tokens made by another model, naming both.
    pub fn check_tokens(&self, tokens: &TokenFile, path: &Path) -> Result<()> {
        let header = &tokens.header;
        if header.model != self.info.fingerprint
            || header.kind != self.info.config.kind()
            || header.codebook_size != self.info.config.codebook_size()
        {
            return Err(CliError::TokenFile {
                path: path.to_path_buf(),
                message: format!(
                    "made by model {} ({:?}, K = {}), but this is model {} ({:?}, K = {}): \
                     decode with the model that encoded it (`simvq info` shows a model's \
                     fingerprint)",
                    header.model,
                    header.kind,
                    header.codebook_size,
                    self.info.fingerprint,
                    self.info.config.kind(),
                    self.info.config.codebook_size()
                ),
            });
        }
        Ok(())
    }

    /// Decodes tokens to `output` (PNG for images, 16-bit WAV for audio, trimmed to the
    /// encoded length).
    pub fn decode_to_file(
        &self,
        tokens: &TokenFile,
        output: &Path,
        device: &B::Device,
    ) -> Result<()> {
        let data = |shape: Vec<usize>| {
            let values: Vec<i64> = tokens.tokens.iter().map(|&t| i64::from(t)).collect();
            TensorData::new(values, shape)
        };
        match (&self.tokenizer, &tokens.header.source) {
            (Tokenizer::Image(model), Source::Image { .. }) => {
                let [h, w] = [tokens.header.shape[0], tokens.header.shape[1]];
                let indices = Tensor::<B, 3, Int>::from_data(data(vec![1, h, w]), device);
                let image = model.decode_indices(indices)?.squeeze_dim::<3>(0);
                Ok(save_png(&image, output)?)
            }
            (
                Tokenizer::Audio(model),
                Source::Audio {
                    samples,
                    sample_rate,
                },
            ) => {
                let frames = tokens.header.shape[0];
                let indices = Tensor::<B, 2, Int>::from_data(data(vec![1, frames]), device);
                let wave = model.decode_indices(indices)?;
                let keep = (*samples).min(wave.dims()[1]);
                let values: Vec<f32> = wave
                    .narrow(1, 0, keep)
                    .into_data()
                    .convert::<f32>()
                    .to_vec()
                    .expect("f32 data");
                Ok(write_wav(output, &values, *sample_rate)?)
            }
            _ => Err(CliError::Input {
                path: output.to_path_buf(),
                message: "the token file's source does not match the model's kind".into(),
            }),
        }
    }

    /// The extension decoded files get.
    pub fn output_extension(&self) -> &'static str {
        match self.tokenizer {
            Tokenizer::Image(_) => "png",
            Tokenizer::Audio(_) => "wav",
        }
    }
}

/// Reads an image and prepares it as `[3, H, W]` floats in `[-1, 1]`; returns its size.
fn prepare_image(path: &Path, size: ImageSize, factor: usize) -> Result<(Vec<f32>, usize, usize)> {
    let image = decode_rgb(path)?;
    let prepared = match size {
        ImageSize::Square(side) => {
            let transform = ImageTransform {
                size: side,
                crop: Crop::Center,
                augment: Augment::None,
            };
            // A centre crop draws nothing from the generator.
            transform.apply(&image, &mut rand::rngs::StdRng::seed_from_u64(0))
        }
        ImageSize::Native => {
            let f = factor as u32;
            let (w, h) = (image.width() / f * f, image.height() / f * f);
            if w == 0 || h == 0 {
                return Err(CliError::Input {
                    path: path.to_path_buf(),
                    message: format!(
                        "{}×{} pixels is smaller than one token ({factor}×{factor}); use \
                         --size to resize it",
                        image.width(),
                        image.height()
                    ),
                });
            }
            let (left, top) = ((image.width() - w) / 2, (image.height() - h) / 2);
            image::imageops::crop_imm(&image, left, top, w, h).to_image()
        }
    };
    let (width, height) = (prepared.width() as usize, prepared.height() as usize);
    let mut pixels = Vec::with_capacity(3 * width * height);
    push_chw(&prepared, &mut pixels);
    Ok((pixels, width, height))
}

/// An integer tensor's values as `u32` tokens.
fn int_values<B: Backend>(tokens: Tensor<B, 1, Int>) -> Vec<u32> {
    tokens
        .into_data()
        .convert::<i64>()
        .to_vec::<i64>()
        .expect("integer data")
        .into_iter()
        .map(|t| t as u32)
        .collect()
}
