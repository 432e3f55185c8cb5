//! The reference's image preprocessing: RGB, `Resize(size)` (shorter side, Pillow bilinear
//! with antialias), `RandomCrop(size)` for training or `CenterCrop(size)` for evaluation,
//! then `x / 127.5 − 1` in channel-first order.

use std::path::{Path, PathBuf};

use image::RgbImage;
use rand::{rngs::StdRng, RngExt};

use crate::error::{DataError, Result};
use crate::loader::{Example, Loader};
use crate::resize::resize_bilinear_like_pil;

/// Batches of preprocessed images.
pub type ImageLoader = Loader<ImageTransform>;

/// A batch of images, channel-first, in `[-1, 1]`.
#[derive(Debug, Clone)]
pub struct ImageBatch {
    /// `[batch, 3, size, size]` values, row-major.
    pub pixels: Vec<f32>,
    /// `[batch, 3, size, size]`; `batch` is smaller than asked when files were skipped.
    pub shape: [usize; 4],
    /// The file of each image.
    pub paths: Vec<PathBuf>,
}

/// Where the square is cut from the resized image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crop {
    /// Uniformly random offsets (training; torchvision `RandomCrop`).
    Random,
    /// Centred (evaluation; torchvision `CenterCrop`).
    Center,
    /// A uniformly random `size × size` patch of the image as stored, without resizing it
    /// (unless its shorter side is below `size`, when it is resized as for `Random`). Small
    /// demo runs use it: many different patches of each photo at its own scale, instead of
    /// the same downscaled photo every epoch.
    RandomPatch,
}

/// Random symmetries applied to a training crop after it is cut.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Augment {
    /// None (the reference: no flip).
    #[default]
    None,
    /// One of the eight flips and quarter turns of the square, uniformly: eight times as many
    /// distinct crops of the same photos, so a small run on a few dozen photos learns local
    /// structure instead of the orientation of each photo's edges and gradients.
    Dihedral,
}

/// Shorter side to `size`, then a `size × size` crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageTransform {
    /// Output side in pixels.
    pub size: u32,
    /// Crop placement.
    pub crop: Crop,
    /// Symmetries applied to the crop.
    pub augment: Augment,
}

/// Reads and decodes an image file to 8-bit RGB. Gray, gray+alpha, RGBA (alpha dropped, as
/// PIL's `convert("RGB")`), 16-bit and CMYK JPEGs are converted; unreadable or truncated files
/// are an error naming the file.
pub fn decode_rgb(path: &Path) -> Result<RgbImage> {
    let unreadable = |reason: String| DataError::Unreadable {
        path: path.to_path_buf(),
        reason,
    };
    let reader = image::ImageReader::open(path)
        .map_err(|e| unreadable(e.to_string()))?
        .with_guessed_format()
        .map_err(|e| unreadable(e.to_string()))?;
    let image = reader.decode().map_err(|e| unreadable(e.to_string()))?;
    if image.width() == 0 || image.height() == 0 {
        return Err(unreadable("the image has no pixels".into()));
    }
    Ok(image.to_rgb8())
}

impl ImageTransform {
    /// torchvision `Resize(size)`: the shorter side becomes `size`, the longer
    /// `int(size · long / short)` (truncated, as torchvision computes it).
    pub fn resized_dims(&self, width: u32, height: u32) -> (u32, u32) {
        let size = u64::from(self.size);
        let (w, h) = (u64::from(width), u64::from(height));
        if w <= h {
            (self.size, (size * h / w) as u32)
        } else {
            ((size * w / h) as u32, self.size)
        }
    }

    /// Resizes and crops `image`; `rng` places a random crop.
    pub fn apply(&self, image: &RgbImage, rng: &mut StdRng) -> RgbImage {
        let keep = self.crop == Crop::RandomPatch && image.width().min(image.height()) >= self.size;
        let (w, h) = if keep {
            image.dimensions()
        } else {
            self.resized_dims(image.width(), image.height())
        };
        let resized = if (w, h) == image.dimensions() {
            image.clone()
        } else {
            resize_bilinear_like_pil(image, w, h)
        };
        let (top, left) = match self.crop {
            Crop::Random | Crop::RandomPatch => (
                rng.random_range(0..=h - self.size),
                rng.random_range(0..=w - self.size),
            ),
            // torchvision: int(round((h − size) / 2)), Python rounding half to even.
            Crop::Center => (
                (f64::from(h - self.size) / 2.0).round_ties_even() as u32,
                (f64::from(w - self.size) / 2.0).round_ties_even() as u32,
            ),
        };
        let crop = image::imageops::crop_imm(&resized, left, top, self.size, self.size).to_image();
        match self.augment {
            Augment::None => crop,
            Augment::Dihedral => dihedral(crop, rng.random_range(0..8)),
        }
    }
}

/// Symmetry `which` (0–7) of the square `image`: bit 0 flips it left to right, bits 1–2 turn
/// it by that many quarter turns clockwise (0 is the identity).
pub fn dihedral(image: RgbImage, which: u8) -> RgbImage {
    use image::imageops::{flip_horizontal, rotate180, rotate270, rotate90};
    let flipped = if which & 1 == 1 {
        flip_horizontal(&image)
    } else {
        image
    };
    match (which >> 1) & 3 {
        0 => flipped,
        1 => rotate90(&flipped),
        2 => rotate180(&flipped),
        _ => rotate270(&flipped),
    }
}

/// Appends `image` as channel-first floats in `[-1, 1]` (`x / 127.5 − 1`).
pub fn push_chw(image: &RgbImage, out: &mut Vec<f32>) {
    for c in 0..3 {
        out.extend(image.pixels().map(|p| f32::from(p.0[c]) / 127.5 - 1.0));
    }
}

impl Example for ImageTransform {
    type Item = RgbImage;
    type Batch = ImageBatch;

    fn validate(&self) -> Result<()> {
        if self.size == 0 {
            return Err(DataError::InvalidSetting(
                "the image size must be at least 1".into(),
            ));
        }
        Ok(())
    }

    fn load(&self, path: &Path, rng: &mut StdRng) -> Result<RgbImage> {
        decode_rgb(path).map(|image| self.apply(&image, rng))
    }

    fn collate(&self, items: Vec<RgbImage>, paths: Vec<PathBuf>) -> ImageBatch {
        let size = self.size as usize;
        let mut pixels = Vec::with_capacity(items.len() * 3 * size * size);
        for image in &items {
            push_chw(image, &mut pixels);
        }
        ImageBatch {
            shape: [items.len(), 3, size, size],
            pixels,
            paths,
        }
    }
}
