//! PSNR and SSIM as the reference evaluates them (SimVQ `evaluation.py` with scikit-image).
//!
//! Written here rather than reused from burn-train's vision metrics because parity needs the
//! reference's exact protocol: inputs truncated to uint8 first, scikit-image's SSIM (7×7
//! uniform window, sample covariance, statistics of the interior only), float64 arithmetic,
//! and the reference's per-batch PSNR quirk alongside the per-image value.

use burn::tensor::{backend::Backend, Tensor};

use crate::error::MetricsError;

/// Side of scikit-image's default uniform SSIM window.
pub const SSIM_WINDOW: usize = 7;
const K1: f64 = 0.01;
const K2: f64 = 0.03;

/// One image in `[-1, 1]` (`[C, H, W]`, row-major) → the reference's `[0, 1]` values: clamp,
/// `(x + 1) / 2 · 255` in f32 as torch computes it, truncate to uint8, divide by 255.
pub fn reference_uint8_image(image: &[f32]) -> Vec<f64> {
    image
        .iter()
        .map(|&x| {
            let scaled = (x.clamp(-1.0, 1.0) + 1.0) / 2.0 * 255.0;
            // `as u8` truncates toward zero and saturates, like numpy's astype(uint8) on [0, 255].
            f64::from(scaled as u8) / 255.0
        })
        .collect()
}

/// PSNR in dB of two equally long signals with values in `[0, data_range]`:
/// `10·log10(data_range² / mse)`; `+∞` for identical inputs (as scikit-image).
pub fn psnr(target: &[f64], test: &[f64], data_range: f64) -> f64 {
    let mse = target
        .iter()
        .zip(test)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        / target.len() as f64;
    10.0 * (data_range * data_range / mse).log10()
}

/// Mean SSIM of two `[C, H, W]` images (scikit-image `structural_similarity` with
/// `channel_axis`, `data_range`, default window): per-channel means of the SSIM map over the
/// pixels whose 7×7 window lies inside the image, averaged over channels.
pub fn ssim(
    a: &[f64],
    b: &[f64],
    channels: usize,
    height: usize,
    width: usize,
    data_range: f64,
) -> Result<f64, MetricsError> {
    if height < SSIM_WINDOW || width < SSIM_WINDOW {
        return Err(MetricsError::ImageTooSmall {
            metric: "SSIM",
            window: SSIM_WINDOW,
            height,
            width,
        });
    }
    let plane = height * width;
    let total: f64 = (0..channels)
        .map(|c| {
            let range = c * plane..(c + 1) * plane;
            ssim_plane(&a[range.clone()], &b[range], height, width, data_range)
        })
        .sum();
    Ok(total / channels as f64)
}

/// Mean SSIM of one channel. Only interior windows count (scikit-image crops
/// `(win − 1) / 2` pixels from every border), so the filter's border mode never matters.
/// Window sums come from summed-area tables: O(H·W) per channel instead of O(H·W·49).
fn ssim_plane(a: &[f64], b: &[f64], height: usize, width: usize, data_range: f64) -> f64 {
    let n = (SSIM_WINDOW * SSIM_WINDOW) as f64;
    let cov_norm = n / (n - 1.0);
    let c1 = (K1 * data_range).powi(2);
    let c2 = (K2 * data_range).powi(2);
    let product =
        |x: &[f64], y: &[f64]| -> Vec<f64> { x.iter().zip(y).map(|(p, q)| p * q).collect() };
    let sums = [
        a.to_vec(),
        product(a, a),
        b.to_vec(),
        product(b, b),
        product(a, b),
    ]
    .map(|values| SummedArea::new(&values, height, width));
    let (out_h, out_w) = (height - SSIM_WINDOW + 1, width - SSIM_WINDOW + 1);
    let mut total = 0.0;
    for top in 0..out_h {
        for left in 0..out_w {
            let [sa, saa, sb, sbb, sab] = sums.each_ref().map(|s| s.window(top, left) / n);
            let vx = cov_norm * (saa - sa * sa);
            let vy = cov_norm * (sbb - sb * sb);
            let vxy = cov_norm * (sab - sa * sb);
            let numerator = (2.0 * sa * sb + c1) * (2.0 * vxy + c2);
            let denominator = (sa * sa + sb * sb + c1) * (vx + vy + c2);
            total += numerator / denominator;
        }
    }
    total / (out_h * out_w) as f64
}

/// Summed-area table of a per-pixel value, for O(1) window sums.
struct SummedArea {
    /// `(height + 1) × (width + 1)`, zero first row and column.
    table: Vec<f64>,
    stride: usize,
}

impl SummedArea {
    fn new(values: &[f64], height: usize, width: usize) -> Self {
        let stride = width + 1;
        let mut table = vec![0.0; (height + 1) * stride];
        for row in 0..height {
            let mut running = 0.0;
            for col in 0..width {
                running += values[row * width + col];
                table[(row + 1) * stride + col + 1] = table[row * stride + col + 1] + running;
            }
        }
        Self { table, stride }
    }

    /// Sum over the `SSIM_WINDOW`² window whose top-left pixel is (`top`, `left`).
    fn window(&self, top: usize, left: usize) -> f64 {
        let (bottom, right) = (top + SSIM_WINDOW, left + SSIM_WINDOW);
        let at = |r: usize, c: usize| self.table[r * self.stride + c];
        at(bottom, right) - at(top, right) - at(bottom, left) + at(top, left)
    }
}

/// PSNR and SSIM accumulated over an evaluation set, batch by batch, following the reference.
#[derive(Debug, Clone, Default)]
pub struct ImageQuality {
    ssim_per_image: Vec<f64>,
    psnr_per_image: Vec<f64>,
    ssim_per_batch: Vec<f64>,
    psnr_per_batch: Vec<f64>,
}

/// The accumulated metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageQualityReport {
    /// Mean SSIM over batches of per-batch mean SSIM (the reference's table, ×100 there).
    pub ssim: f64,
    /// Mean over batches of the PSNR of each whole batch (the reference's table: its
    /// `peak_signal_noise_ratio` call takes the batch array, a bug kept for comparability).
    pub psnr: f64,
    /// Mean of per-image SSIM (differs from `ssim` only when batches differ in size).
    pub ssim_per_image: f64,
    /// Mean of per-image PSNR (what PSNR usually means).
    pub psnr_per_image: f64,
    /// Number of images.
    pub images: usize,
}

impl ImageQuality {
    /// Adds a batch: `recon` and `target` are `[B, C, H, W]` in `[-1, 1]`.
    pub fn update<B: Backend>(
        &mut self,
        recon: Tensor<B, 4>,
        target: Tensor<B, 4>,
    ) -> Result<(), MetricsError> {
        let (recon_shape, target_shape) = (recon.dims(), target.dims());
        if recon_shape != target_shape {
            return Err(MetricsError::ShapeMismatch {
                recon: recon_shape.to_vec(),
                target: target_shape.to_vec(),
            });
        }
        let [batch, channels, height, width] = recon_shape;
        if batch == 0 {
            return Ok(());
        }
        let recon: Vec<f32> = recon
            .into_data()
            .convert::<f32>()
            .to_vec()
            .expect("f32 data");
        let target: Vec<f32> = target
            .into_data()
            .convert::<f32>()
            .to_vec()
            .expect("f32 data");
        let recon = reference_uint8_image(&recon);
        let target = reference_uint8_image(&target);
        let image = channels * height * width;
        let mut batch_ssim = 0.0;
        for i in 0..batch {
            let range = i * image..(i + 1) * image;
            let (r, t) = (&recon[range.clone()], &target[range]);
            let s = ssim(r, t, channels, height, width, 1.0)?;
            batch_ssim += s;
            self.ssim_per_image.push(s);
            self.psnr_per_image.push(psnr(t, r, 1.0));
        }
        self.ssim_per_batch.push(batch_ssim / batch as f64);
        self.psnr_per_batch.push(psnr(&target, &recon, 1.0));
        Ok(())
    }

    /// The metrics so far.
    pub fn report(&self) -> Result<ImageQualityReport, MetricsError> {
        if self.ssim_per_image.is_empty() {
            return Err(MetricsError::Empty);
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        Ok(ImageQualityReport {
            ssim: mean(&self.ssim_per_batch),
            psnr: mean(&self.psnr_per_batch),
            ssim_per_image: mean(&self.ssim_per_image),
            psnr_per_image: mean(&self.psnr_per_image),
            images: self.ssim_per_image.len(),
        })
    }
}
