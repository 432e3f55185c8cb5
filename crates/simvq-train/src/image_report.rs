//! Evaluating an image tokenizer on a folder (utilization, PSNR, SSIM, and LPIPS and rFID when
//! their networks are given) and the PNG grid of originals above reconstructions.

use std::path::Path;

use burn::module::Module;
use burn::tensor::{backend::Backend, ElementConversion, Tensor, TensorData};
use image::RgbImage;
use serde::{Deserialize, Serialize};
use simvq_data::ImageLoader;
use simvq_image::ImageTokenizer;
use simvq_metrics::{
    frechet_distance, FeatureStatistics, FidInception, ImageQuality, Lpips, LpipsNet,
    INCEPTION_FEATURES,
};
use simvq_quant::{CodebookUsage, Quantizer};
use simvq_run::{save_png, to_rgb, RunError};

use crate::error::Result;

/// Reconstruction quality and codebook use over an evaluation set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Mean LPIPS with the AlexNet backbone, when its weights were given.
    pub lpips_alex: Option<f64>,
    /// Mean LPIPS with the VGG16 backbone, when its weights were given.
    pub lpips_vgg: Option<f64>,
    /// Fréchet Inception distance between the reconstructions and the originals (the
    /// reference's rFID: statistics of the same images, not precomputed ImageNet ones), when
    /// the Inception weights were given.
    pub rfid: Option<f64>,
}

/// The pretrained networks of the perceptual metrics. Their weights are files the user
/// provides, so each is optional and its metric is reported as `None` without it.
pub struct ImageEvalNetworks<B: Backend> {
    /// LPIPS networks (AlexNet and/or VGG16).
    pub lpips: Vec<Lpips<B>>,
    /// pytorch-fid's InceptionV3, for rFID.
    pub inception: Option<FidInception<B>>,
}

impl<B: Backend> Default for ImageEvalNetworks<B> {
    fn default() -> Self {
        Self {
            lpips: Vec::new(),
            inception: None,
        }
    }
}

/// Running sums of the perceptual metrics.
struct PerceptualSums {
    lpips: Vec<f64>,
    real: FeatureStatistics,
    fake: FeatureStatistics,
}

impl PerceptualSums {
    fn new(networks: usize) -> Self {
        Self {
            lpips: vec![0.0; networks],
            real: FeatureStatistics::new(INCEPTION_FEATURES),
            fake: FeatureStatistics::new(INCEPTION_FEATURES),
        }
    }

    /// Adds a batch of originals and clamped reconstructions, both in `[-1, 1]`.
    fn update<B: Backend>(
        &mut self,
        networks: &ImageEvalNetworks<B>,
        x: &Tensor<B, 4>,
        recon: &Tensor<B, 4>,
    ) -> Result<()> {
        for (sum, lpips) in self.lpips.iter_mut().zip(&networks.lpips) {
            lpips.check_size(x.dims())?;
            let per_image = lpips.forward(x.clone(), recon.clone());
            *sum += f64::from(per_image.sum().into_scalar().elem::<f32>());
        }
        if let Some(inception) = &networks.inception {
            // The reference feeds floats in [0, 1], not uint8-quantised images.
            let features = |t: &Tensor<B, 4>| -> Vec<f32> {
                let unit = t.clone().add_scalar(1.0).div_scalar(2.0);
                inception
                    .features(unit)
                    .into_data()
                    .convert::<f32>()
                    .to_vec()
                    .expect("f32 data")
            };
            self.real.update(&features(x))?;
            self.fake.update(&features(recon))?;
        }
        Ok(())
    }
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
/// originals and reconstructions for a grid. `visit` sees every batch of originals and
/// reconstructions (to save them, to advance a progress bar).
pub fn evaluate_images<B: Backend, Q: Module<B> + Quantizer<B>>(
    model: &ImageTokenizer<B, Q>,
    loader: &ImageLoader,
    limit: usize,
    keep: usize,
    networks: &ImageEvalNetworks<B>,
    device: &B::Device,
    mut visit: impl FnMut(&Tensor<B, 4>, &Tensor<B, 4>) -> Result<()>,
) -> Result<(ImageEvalReport, Vec<ImagePair<B>>)> {
    let mut usage = CodebookUsage::new(model.codebook_size());
    let mut quality = ImageQuality::default();
    let mut perceptual = PerceptualSums::new(networks.lpips.len());
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
        perceptual.update(networks, &x, &recon)?;
        visit(&x, &recon)?;
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
    let lpips_of = |net: LpipsNet| {
        networks
            .lpips
            .iter()
            .zip(&perceptual.lpips)
            .find(|(l, _)| l.net() == net)
            .map(|(_, sum)| sum / q.images as f64)
    };
    let rfid = match networks.inception {
        Some(_) => Some(frechet_distance(&perceptual.real, &perceptual.fake)?),
        None => None,
    };
    Ok((
        ImageEvalReport {
            images: q.images,
            utilization: usage.utilization(),
            perplexity: usage.perplexity(),
            psnr: q.psnr,
            psnr_per_image: q.psnr_per_image,
            ssim: q.ssim,
            lpips_alex: lpips_of(LpipsNet::Alex),
            lpips_vgg: lpips_of(LpipsNet::Vgg),
            rfid,
        },
        kept,
    ))
}

/// Saves a batch of originals and reconstructions as `dir/source/NNNNN.png` and
/// `dir/recons/NNNNN.png`, numbered from `first` (as the reference's evaluation dumps them).
pub fn save_png_pairs<B: Backend>(
    originals: &Tensor<B, 4>,
    recons: &Tensor<B, 4>,
    first: usize,
    dir: &Path,
) -> Result<()> {
    for (images, sub) in [(originals, "source"), (recons, "recons")] {
        let folder = dir.join(sub);
        std::fs::create_dir_all(&folder).map_err(|source| RunError::Io {
            path: folder.clone(),
            source,
        })?;
        for i in 0..images.dims()[0] {
            let image = images.clone().narrow(0, i, 1).squeeze_dim::<3>(0);
            save_png(&image, &folder.join(format!("{:05}.png", first + i)))?;
        }
    }
    Ok(())
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
    Ok(grid.save(path).map_err(|e| RunError::output(path, e))?)
}
