//! Evaluating an image tokenizer on a folder (utilization, PSNR, SSIM) and the PNG grid of
//! originals above reconstructions.

use std::path::Path;

use burn::tensor::{backend::Backend, Tensor, TensorData};
use image::{Rgb, RgbImage};
use serde::Serialize;
use simvq_data::ImageLoader;
use simvq_image::ImageTokenizer;
use simvq_metrics::ImageQuality;
use simvq_quant::CodebookUsage;

use crate::error::{Result, TrainError};

/// Reconstruction quality and codebook use over an evaluation set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageEvalReport {
    /// Images evaluated.
    pub images: usize,
    /// Codes used at least once over the whole set ÷ K.
    pub utilization: f64,
    /// Perplexity of the code histogram.
    pub perplexity: f64,
    /// The reference's per-batch PSNR (dB), averaged over batches.
    pub psnr: f64,
    /// Mean per-image PSNR (dB).
    pub psnr_per_image: f64,
    /// Mean SSIM (the reference prints ×100).
    pub ssim: f64,
}

/// An original `[3, H, W]` and its reconstruction, for the grid.
pub type ImagePair<B> = (Tensor<B, 3>, Tensor<B, 3>);

/// Channel-first `[-1, 1]` floats of a batch as a tensor.
pub fn batch_tensor<B: Backend>(
    pixels: Vec<f32>,
    shape: [usize; 4],
    device: &B::Device,
) -> Tensor<B, 4> {
    Tensor::from_data(TensorData::new(pixels, shape), device)
}

/// Reconstructs up to `limit` images (0 = all) of `loader`'s epoch 0 with `model` (clamped to
/// `[-1, 1]` as the reference evaluates), and returns the metrics plus the first `keep`
/// originals and reconstructions for a grid.
pub fn evaluate_images<B: Backend>(
    model: &ImageTokenizer<B>,
    loader: &ImageLoader,
    limit: usize,
    keep: usize,
    device: &B::Device,
) -> Result<(ImageEvalReport, Vec<ImagePair<B>>)> {
    let mut usage = CodebookUsage::new(model.codebook_size());
    let mut quality = ImageQuality::default();
    let mut kept = Vec::new();
    let mut seen = 0;
    for index in 0..loader.batches_per_epoch() {
        if limit > 0 && seen >= limit {
            break;
        }
        let batch = loader.batch(0, index)?;
        let x = batch_tensor::<B>(batch.pixels, batch.shape, device);
        let take = if limit > 0 {
            batch.shape[0].min(limit - seen)
        } else {
            batch.shape[0]
        };
        let x = x.narrow(0, 0, take);
        let tokens = model.encode(x.clone())?;
        usage.update(&tokens)?;
        let recon = model.decode_indices(tokens)?;
        for i in 0..take {
            if kept.len() < keep {
                let one = |t: &Tensor<B, 4>| t.clone().narrow(0, i, 1).squeeze_dim::<3>(0);
                kept.push((one(&x), one(&recon)));
            }
        }
        quality.update(recon, x)?;
        seen += take;
    }
    let q = quality.report()?;
    Ok((
        ImageEvalReport {
            images: q.images,
            utilization: usage.utilization(),
            perplexity: usage.perplexity(),
            psnr: q.psnr,
            psnr_per_image: q.psnr_per_image,
            ssim: q.ssim,
        },
        kept,
    ))
}

/// `[3, H, W]` in `[-1, 1]` → 8-bit RGB (`(x + 1) / 2 · 255`, clamped, rounded).
fn to_rgb<B: Backend>(image: &Tensor<B, 3>) -> RgbImage {
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

/// Saves a PNG with the originals in the top row and their reconstructions below.
pub fn save_grid<B: Backend>(pairs: &[ImagePair<B>], path: &Path) -> Result<()> {
    let Some((first, _)) = pairs.first() else {
        return Ok(());
    };
    let [_, h, w] = first.dims();
    let (w, h) = (w as u32, h as u32);
    let mut grid = RgbImage::new(w * pairs.len() as u32, h * 2);
    for (i, (original, recon)) in pairs.iter().enumerate() {
        image::imageops::replace(&mut grid, &to_rgb(original), i64::from(w) * i as i64, 0);
        image::imageops::replace(
            &mut grid,
            &to_rgb(recon),
            i64::from(w) * i as i64,
            i64::from(h),
        );
    }
    grid.save(path).map_err(|e| TrainError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })
}
