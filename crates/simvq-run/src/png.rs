//! Images in `[-1, 1]` as 8-bit PNG files.

use std::path::Path;

use burn::tensor::{backend::Backend, Tensor};
use image::{Rgb, RgbImage};

use crate::error::{Result, RunError};

/// `[3, H, W]` in `[-1, 1]` → 8-bit RGB (`(x + 1) / 2 · 255`, clamped, rounded).
pub fn to_rgb<B: Backend>(image: &Tensor<B, 3>) -> RgbImage {
    let [_, h, w] = image.dims();
    let values: Vec<f32> = image
        .clone()
        .into_data()
        .convert::<f32>()
        .to_vec()
        .expect("f32 data");
    let plane = h * w;
    RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let at = |c: usize| {
            let v = values[c * plane + y as usize * w + x as usize];
            (((v + 1.0) * 127.5).round()).clamp(0.0, 255.0) as u8
        };
        Rgb([at(0), at(1), at(2)])
    })
}

/// Saves one `[3, H, W]` image in `[-1, 1]` as an 8-bit PNG.
pub fn save_png<B: Backend>(image: &Tensor<B, 3>, path: &Path) -> Result<()> {
    to_rgb(image)
        .save(path)
        .map_err(|e| RunError::output(path, e))
}
