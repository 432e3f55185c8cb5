//! The SimVQ audio codec (WavTokenizer-style, the reference's `libritts_24khz`): a causal
//! SEANet encoder, SimVQ with 512-dimensional codes, a Vocos backbone and an iSTFT head.
//! 24 kHz audio, 75 tokens per second, one codebook.
//!
//! ```
//! use burn::backend::Flex;
//! use burn::tensor::{Distribution, Tensor};
//! use simvq_audio::{AudioCodecConfig, SeanetConfig, VocosConfig};
//! use simvq_quant::SimVqConfig;
//!
//! // A narrow codec for the example; `AudioCodecConfig::reference(4096)` is the real one.
//! let config = AudioCodecConfig::new(
//!     SeanetConfig::new().with_filters(4).with_dimension(32).with_lstm_layers(1),
//!     SimVqConfig::new().with_codebook_size(64).with_dim(32),
//!     VocosConfig::new().with_input_channels(32).with_dim(64).with_intermediate_dim(96).with_layers(1),
//! );
//! let codec = config.init::<Flex>(&Default::default())?;
//! let wave = Tensor::<Flex, 2>::random([1, 3_200], Distribution::Uniform(-0.5, 0.5), &Default::default());
//! let tokens = codec.encode(wave)?;                 // [1, 10]: 320 samples per token
//! let decoded = codec.decode_indices(tokens)?;      // [1, 3_200]
//! assert_eq!(decoded.dims(), [1, 3_200]);
//! # Ok::<(), simvq_audio::AudioError>(())
//! ```

mod audio_discriminator;
mod backbone;
mod codec;
mod conv;
mod dac_discriminator;
mod discriminator;
mod encoder;
mod encoder_data_init;
mod error;
mod exact_gelu;
mod head;
mod istft;
mod loss;
mod mel;
mod reference_names;
mod seeded_dropout;
mod stft;
mod weight_norm_conv2d;

pub use audio_discriminator::{AudioDiscriminator, AudioDiscriminatorConfig, AudioVerdicts};
pub use backbone::{VocosBackbone, VocosConfig};
pub use codec::{AudioCodec, AudioCodecConfig, CodecOutput};
pub use conv::{extra_padding, reflect_pad, WeightNormConv1d};
pub use dac_discriminator::{
    dac_feature_matching_loss, dac_preprocess, lsgan_discriminator_loss, lsgan_generator_loss,
    DacBandDiscriminator, DacConfig, DacDiscriminator,
};
pub use discriminator::{
    feature_matching_loss, hinge_discriminator_loss, hinge_generator_loss, MultiPeriodConfig,
    MultiPeriodDiscriminator, MultiResolutionConfig, MultiResolutionDiscriminator,
    PeriodDiscriminator, ResolutionDiscriminator, Verdict,
};
pub use encoder::{SeanetConfig, SeanetEncoder};
pub use error::{AudioError, Result};
pub use exact_gelu::exact_gelu;
pub use head::IstftHead;
pub use istft::{hann_window, Istft};
pub use loss::{audio_discriminator_loss, AudioGeneratorLoss, AudioLoss, AudioLossConfig};
pub use mel::{mel_filterbank, MelConfig, MelSpectrogram};
pub use reference_names::ReferenceName;
pub use seeded_dropout::{DropoutRng, SeededDropout};
pub use stft::Stft;
pub use weight_norm_conv2d::WeightNormConv2d;
