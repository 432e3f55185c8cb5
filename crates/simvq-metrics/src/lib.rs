//! Evaluation metrics of the SimVQ protocol, each computing what the reference's Python code
//! computes, proven by golden values (see `docs/parity.md`).
//!
//! So far: image PSNR and SSIM with scikit-image's definitions on the reference's
//! uint8-truncated inputs ([`ImageQuality`]), and the Fréchet distance of feature statistics as
//! pytorch-fid computes it ([`FeatureStatistics`], [`frechet_distance`]), and STOI as pystoi
//! computes it ([`stoi`]), wide-band PESQ as the `pesq` package scores it ([`pesq_wb`]),
//! LPIPS with the AlexNet and VGG16 backbones ([`Lpips`]) and pytorch-fid's InceptionV3
//! ([`FidInception`]), both with weights the user provides, and V/UV F1 with torchcrepe's CREPE
//! ([`voiced_frames`], [`vuv_f1`]), both after torchaudio's resampler ([`sinc_resample`]), and
//! UTMOS with the UTMOS22 strong learner ([`Utmos`]).
//! Codebook utilization and perplexity are
//! `simvq_quant::CodebookUsage`.
//!
//! ```
//! use burn::backend::Flex;
//! use burn::tensor::{Distribution, Tensor};
//! use simvq_metrics::ImageQuality;
//!
//! let device = Default::default();
//! let target = Tensor::<Flex, 4>::random([2, 3, 16, 16], Distribution::Uniform(-1.0, 1.0), &device);
//! let recon = target.clone() * 0.9;
//! let mut quality = ImageQuality::default();
//! quality.update(recon, target)?;
//! let report = quality.report()?;
//! assert!(report.psnr > 20.0 && report.ssim > 0.9);
//! # Ok::<(), simvq_metrics::MetricsError>(())
//! ```

#[cfg(feature = "audio")]
mod crepe;
mod error;
mod fid;
mod image_quality;
mod inception;
mod lpips;
#[cfg(feature = "audio")]
mod pesq_wb;
#[cfg(feature = "audio")]
mod plain_layers;
#[cfg(feature = "audio")]
mod sinc_resample;
#[cfg(feature = "audio")]
mod state_dict;
#[cfg(feature = "audio")]
mod stoi;
#[cfg(feature = "audio")]
mod utmos;
#[cfg(feature = "audio")]
mod vuv;
#[cfg(feature = "audio")]
mod wav2vec2;
mod weights;

#[cfg(feature = "audio")]
pub use crepe::{Crepe, CrepeCapacity, CREPE_WEIGHTS_HELP, CREPE_WINDOW, PITCH_BINS};
pub use error::MetricsError;
pub use fid::{frechet_distance, FeatureStatistics};
pub use image_quality::{
    psnr, reference_uint8_image, ssim, ImageQuality, ImageQualityReport, SSIM_WINDOW,
};
pub use inception::{FidInception, INCEPTION_FEATURES, INCEPTION_WEIGHTS_HELP};
pub use lpips::{Lpips, LpipsNet};
#[cfg(feature = "audio")]
pub use pesq_wb::{pesq_wb, pesq_wb_pcm, PESQ_RATE};
#[cfg(feature = "audio")]
pub use sinc_resample::sinc_resample;
#[cfg(feature = "audio")]
pub use stoi::{resample_octave, stoi, stoi_f64};
#[cfg(feature = "audio")]
pub use utmos::{Utmos, UTMOS_RATE, UTMOS_WEIGHTS_HELP};
#[cfg(feature = "audio")]
pub use vuv::{
    crepe_frames, decode_periodicity, frame_count, silent_frames, viterbi_path, voiced_frames,
    vuv_f1, vuv_f1_at_rate, CREPE_RATE,
};
