//! The codec: SEANet encoder → SimVQ (or another quantizer, for comparisons) → Vocos backbone
//! → iSTFT head, and its public API.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{backend::Backend, Int, Tensor};
use simvq_quant::{QuantLoss, Quantizer, SeededInit, SimVq, SimVqConfig};

use crate::backbone::{VocosBackbone, VocosConfig};
use crate::encoder::{SeanetConfig, SeanetEncoder};
use crate::error::AudioError;
use crate::head::IstftHead;

/// The whole codec; defaults are the reference's `libritts_24khz`.
#[derive(Config, Debug)]
pub struct AudioCodecConfig {
    /// Encoder.
    pub encoder: SeanetConfig,
    /// The quantizer; `dim` must equal `encoder.dimension`.
    pub quantizer: SimVqConfig,
    /// Decoder backbone; `input_channels` must equal `encoder.dimension`.
    pub backbone: VocosConfig,
    /// FFT size of the iSTFT head (1280).
    #[config(default = 1280)]
    pub n_fft: usize,
    /// Sample rate the codec runs at.
    #[config(default = 24_000)]
    pub sample_rate: usize,
}

impl AudioCodecConfig {
    /// The reference codec with `codebook_size` codes (4,096 … 262,144).
    pub fn reference(codebook_size: usize) -> Self {
        Self::new(
            SeanetConfig::new(),
            SimVqConfig::new()
                .with_codebook_size(codebook_size)
                .with_dim(512),
            VocosConfig::new(),
        )
    }

    /// Tokens per second (75 for the reference).
    pub fn frame_rate(&self) -> f64 {
        self.sample_rate as f64 / self.encoder.hop_length() as f64
    }

    /// Bits per second: frame rate × log2(K) (0.9 kbps at K = 4,096).
    pub fn bitrate(&self) -> f64 {
        self.frame_rate() * (self.quantizer.codebook_size as f64).log2()
    }

    /// Builds the codec, drawn from seed 0 ([`init_seeded`](Self::init_seeded) takes another);
    /// the quantizer is seeded by its config.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Result<AudioCodec<B>, AudioError> {
        self.init_seeded(&SeededInit::new(0, device))
    }

    /// Builds the codec with its reference init drawn from `init` (encoder, backbone, head);
    /// the quantizer is seeded by its config.
    pub fn init_seeded<B: Backend>(
        &self,
        init: &SeededInit<B>,
    ) -> Result<AudioCodec<B>, AudioError> {
        self.init_seeded_with(init, self.quantizer.init(init.device())?)
    }

    /// Builds the codec around `quantizer` instead of the config's SimVQ (the baselines of
    /// `cargo xtask reproduce audio`), the rest drawn from `init` as
    /// [`init_seeded`](Self::init_seeded) draws it, so that methods compared under one seed
    /// start from the same encoder and decoder.
    pub fn init_seeded_with<B: Backend, Q: Module<B> + Quantizer<B>>(
        &self,
        init: &SeededInit<B>,
        quantizer: Q,
    ) -> Result<AudioCodec<B, Q>, AudioError> {
        let d = self.encoder.dimension;
        if quantizer.dim() != d || self.backbone.input_channels != d {
            return Err(AudioError::InvalidConfig(format!(
                "encoder.dimension ({d}), quantizer.dim ({}) and backbone.input_channels ({}) \
                 must be equal",
                quantizer.dim(),
                self.backbone.input_channels
            )));
        }
        let dropout = self.backbone.dropout;
        if !(0.0..1.0).contains(&dropout) {
            return Err(AudioError::InvalidConfig(format!(
                "backbone.dropout is {dropout}; it must be at least 0 and below 1"
            )));
        }
        let hop = self.encoder.hop_length();
        Ok(AudioCodec {
            encoder: self.encoder.init(init),
            quantizer,
            backbone: self.backbone.init(init),
            head: IstftHead::new(self.backbone.dim, self.n_fft, hop, init)?,
            hop,
            channels: self.encoder.channels,
        })
    }
}

/// What one training forward pass produces.
#[derive(Debug, Clone)]
pub struct CodecOutput<B: Backend> {
    /// Reconstruction `[B, hop · T]` (unclamped).
    pub reconstruction: Tensor<B, 2>,
    /// Code indices `[B, T]`.
    pub indices: Tensor<B, 2, Int>,
    /// The quantizer's loss terms.
    pub quant_loss: QuantLoss<B>,
}

/// The SimVQ audio codec. Build it with [`AudioCodecConfig::init`]; `Q` is another quantizer
/// only in comparisons ([`init_seeded_with`](AudioCodecConfig::init_seeded_with)).
///
/// Waveforms are `[batch, samples]` at the codec's sample rate; `L` samples give
/// `ceil(L / 320)` tokens (75 per second) and decode to `320 · ceil(L / 320)` samples.
#[derive(Module, Debug)]
pub struct AudioCodec<B: Backend, Q: Module<B> = SimVq<B>> {
    /// Waveform → latent.
    pub encoder: SeanetEncoder<B>,
    /// Latent → codes.
    pub quantizer: Q,
    /// Codes → features.
    pub backbone: VocosBackbone<B>,
    /// Features → waveform.
    pub head: IstftHead<B>,
    hop: usize,
    channels: usize,
}

impl<B: Backend, Q: Module<B> + Quantizer<B>> AudioCodec<B, Q> {
    /// Samples per token.
    pub fn hop_length(&self) -> usize {
        self.hop
    }

    /// Number of codes K.
    pub fn codebook_size(&self) -> usize {
        self.quantizer.codebook_size()
    }

    /// Restarts the backbone's dropout masks from `seed` (the training loop does before each
    /// step; see [`VocosBackbone::reseed_dropout`]).
    pub fn reseed_dropout(&self, seed: u64) {
        self.backbone.reseed_dropout(seed);
    }

    fn encode_latent(&self, wave: Tensor<B, 2>) -> Result<Tensor<B, 3>, AudioError> {
        let [batch, samples] = wave.dims();
        if batch == 0 || samples == 0 {
            return Err(AudioError::Shape(format!(
                "waveform of shape [{batch}, {samples}]: need [batch, samples] with at least one \
                 sample"
            )));
        }
        Ok(self
            .encoder
            .forward(wave.reshape([batch, self.channels, samples])))
    }

    /// The codec with its encoder's convs initialised from `wave` (`[batch, samples]`, real
    /// audio): each conv's output standardised per channel on it
    /// ([`SeanetEncoder::init_from_data`]). The rest is untouched.
    pub fn init_encoder_from_data(mut self, wave: Tensor<B, 2>) -> Result<Self, AudioError> {
        let [batch, samples] = wave.dims();
        if batch == 0 || samples < self.hop {
            return Err(AudioError::Shape(format!(
                "waveform of shape [{batch}, {samples}] for the encoder's data init: need at \
                 least one clip of {} samples (one frame)",
                self.hop
            )));
        }
        self.encoder = self
            .encoder
            .init_from_data(wave.reshape([batch, self.channels, samples]));
        Ok(self)
    }

    /// Training forward pass.
    pub fn forward(&self, wave: Tensor<B, 2>) -> Result<CodecOutput<B>, AudioError> {
        let latent = self.encode_latent(wave)?;
        let quantized = self.quantizer.forward_1d(latent)?;
        let features = self.backbone.forward(quantized.quantized);
        Ok(CodecOutput {
            reconstruction: self.head.forward(features),
            indices: quantized.indices,
            quant_loss: quantized.loss,
        })
    }

    /// The encoder's latents of `wave` before quantization, one row per frame:
    /// `[B·ceil(L / hop), D]`, batch-major.
    pub fn latents(&self, wave: Tensor<B, 2>) -> Result<Tensor<B, 2>, AudioError> {
        let latent = self.encode_latent(wave)?;
        let [b, d, t] = latent.dims();
        Ok(latent.swap_dims(1, 2).reshape([b * t, d]))
    }

    /// Waveforms `[B, L]` → tokens `[B, ceil(L / hop)]`.
    pub fn encode(&self, wave: Tensor<B, 2>) -> Result<Tensor<B, 2, Int>, AudioError> {
        Ok(self.quantizer.encode_1d(self.encode_latent(wave)?)?)
    }

    /// Tokens `[B, T]` → waveforms `[B, hop · T]`, through the quantizer's codes (SimVQ's
    /// projected codebook `E`).
    pub fn decode_indices(&self, indices: Tensor<B, 2, Int>) -> Result<Tensor<B, 2>, AudioError> {
        let codes = self.quantizer.decode_indices_1d(indices)?;
        Ok(self.head.forward(self.backbone.forward(codes)))
    }

    /// Encode then decode.
    pub fn reconstruct(&self, wave: Tensor<B, 2>) -> Result<Tensor<B, 2>, AudioError> {
        let tokens = self.encode(wave)?;
        self.decode_indices(tokens)
    }
}
