//! Datasets for SimVQ training and evaluation.
//!
//! Images: any folder tree of images (ImageNet's `train/<class>/*.JPEG` included), decoded on
//! all cores, preprocessed exactly as the reference (Pillow-exact bilinear resize of the
//! shorter side, random or centre crop, `[-1, 1]`), in a seeded order; unreadable files are
//! skipped and named, never fatal. [`demo_images_dir`] holds the built-in demo photos.
//!
//! ```
//! use simvq_data::{demo_images_dir, Crop, ImageFolder, ImageLoader, ImageTransform};
//!
//! let folder = ImageFolder::scan(demo_images_dir())?;
//! let transform = ImageTransform { size: 64, crop: Crop::Center };
//! let loader = ImageLoader::new(folder, transform, 4, false, 0)?;
//! let batch = loader.batch(0, 0)?;
//! assert_eq!(batch.shape, [4, 3, 64, 64]);
//! assert!(batch.pixels.iter().all(|v| (-1.0..=1.0).contains(v)));
//! # Ok::<(), simvq_data::DataError>(())
//! ```

mod error;
mod image_folder;
mod image_loader;
mod image_transform;
mod resize;

use std::path::PathBuf;

pub use error::{DataError, Result};
pub use image_folder::{ImageFolder, IMAGE_EXTENSIONS};
pub use image_loader::{ImageBatch, ImageLoader, Prefetcher, SkippedFile};
pub use image_transform::{decode_rgb, push_chw, Crop, ImageTransform};
pub use resize::resize_bilinear_like_pil;

/// The built-in demo photographs (seven public-domain/CC0 photos from scikit-image's wheel;
/// see `demo/images/LICENSE.md`), shipped with this crate's sources.
pub fn demo_images_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("demo/images")
}
