//! Datasets for SimVQ training and evaluation.
//!
//! Images: any folder tree of images (ImageNet's `train/<class>/*.JPEG` included), decoded on
//! all cores, preprocessed exactly as the reference (Pillow-exact bilinear resize of the
//! shorter side, random or centre crop, `[-1, 1]`), in a seeded order; unreadable files are
//! skipped and named, never fatal. [`demo_images_dir`] holds the built-in demo photos.
//!
//! Audio: folder trees or LibriTTS-style manifests of WAV/FLAC/OGG/MP3 files, decoded to mono,
//! resampled to the model's rate, cut into random fixed-length crops (short clips tiled) or
//! served whole; [`demo_speech_dir`] holds the built-in demo utterances.
//!
//! ```
//! use simvq_data::{demo_images_dir, Augment, Crop, FileList, ImageLoader, ImageTransform};
//!
//! let folder = FileList::images(demo_images_dir())?;
//! let transform = ImageTransform { size: 64, crop: Crop::Center, augment: Augment::None };
//! let loader = ImageLoader::new(folder, transform, 4, false, 0)?;
//! let batch = loader.batch(0, 0)?;
//! assert_eq!(batch.shape, [4, 3, 64, 64]);
//! assert!(batch.pixels.iter().all(|v| (-1.0..=1.0).contains(v)));
//! # Ok::<(), simvq_data::DataError>(())
//! ```

mod audio_clip;
mod audio_decode;
mod checkout;
mod error;
mod file_list;
mod image_transform;
mod loader;
mod resample;
mod resize;

use std::path::PathBuf;

pub use audio_clip::{crop_or_tile, AudioBatch, AudioClip, AudioLoader};
pub use audio_decode::{decode_audio, load_audio, MonoAudio};
pub use checkout::checkout_path;
pub use error::{DataError, Result};
pub use file_list::{FileList, AUDIO_EXTENSIONS, IMAGE_EXTENSIONS};
pub use image_transform::{
    decode_rgb, dihedral, push_chw, Augment, Crop, ImageBatch, ImageLoader, ImageTransform,
};
pub use loader::{Example, Loader, Prefetcher, SkippedFile};
pub use resample::resample;
pub use resize::resize_bilinear_like_pil;

/// The built-in demo photographs: 64² crops of 42 CC0, public-domain and CC-BY-SA photos in
/// `train/` (400) and `val/` (100), split by source photo (see `demo/images/LICENSE.md` and
/// `manifest.tsv`), shipped with this crate's sources.
pub fn demo_images_dir() -> PathBuf {
    let built = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("demo/images");
    checkout_path("crates/simvq-data/demo/images", built)
}

/// The built-in demo speech: 15 speakers of real recorded speech, 166 s from 9 speakers in
/// `train/` and 64 s from 6 others in `val/` (see `demo/speech/LICENSE.md` and
/// `manifest.tsv`), shipped with this crate's sources.
pub fn demo_speech_dir() -> PathBuf {
    let built = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("demo/speech");
    checkout_path("crates/simvq-data/demo/speech", built)
}
