//! Bilinear resizing exactly as Pillow does it (`Image.resize(..., BILINEAR)`), which is what
//! the reference's torchvision `Resize` calls on PIL images.
//!
//! Written here rather than taken from `image::imageops::resize`: Pillow widens the triangle
//! filter by the downscaling ratio (antialiasing) *and* rounds through 22-bit fixed-point
//! weights with an 8-bit clip after each pass; matching it to the last bit keeps the training
//! inputs identical to the reference's (`tests/pil_parity.rs`).

use image::RgbImage;

/// Fixed-point precision of Pillow's 8-bit resampling (`PRECISION_BITS`).
const PRECISION_BITS: u32 = 32 - 8 - 2;

/// Per-output-pixel source window and fixed-point weights along one axis.
struct Coefficients {
    /// `(first source index, number of taps)` per output index.
    bounds: Vec<(usize, usize)>,
    /// Taps per output index (`weights[i * ksize + t]`).
    ksize: usize,
    weights: Vec<i32>,
}

fn triangle(x: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 {
        1.0 - x
    } else {
        0.0
    }
}

/// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for the bilinear filter.
fn coefficients(in_size: usize, out_size: usize) -> Coefficients {
    let scale = in_size as f64 / out_size as f64;
    let filter_scale = scale.max(1.0);
    let support = filter_scale; // bilinear support is 1
    let ksize = support.ceil() as usize * 2 + 1;
    let mut bounds = Vec::with_capacity(out_size);
    let mut weights = vec![0i32; out_size * ksize];
    let mut taps = vec![0f64; ksize];
    for out in 0..out_size {
        let center = (out as f64 + 0.5) * scale;
        // C's `(int)` truncates towards zero.
        let xmin = ((center - support + 0.5) as i64).max(0);
        let xmax = ((center + support + 0.5) as i64).min(in_size as i64) - xmin;
        let (xmin, count) = (xmin as usize, xmax.max(0) as usize);
        // Multiplying by the reciprocal, as Pillow does, not dividing: the last bit matters.
        let inverse_scale = 1.0 / filter_scale;
        let mut total = 0.0;
        for (t, tap) in taps.iter_mut().enumerate().take(count) {
            *tap = triangle((t as f64 + xmin as f64 - center + 0.5) * inverse_scale);
            total += *tap;
        }
        for t in 0..count {
            let w = if total != 0.0 {
                taps[t] / total
            } else {
                taps[t]
            };
            let rounding = if w < 0.0 { -0.5 } else { 0.5 };
            weights[out * ksize + t] = (w * f64::from(1u32 << PRECISION_BITS) + rounding) as i32;
        }
        bounds.push((xmin, count));
    }
    Coefficients {
        bounds,
        ksize,
        weights,
    }
}

/// Pillow's `clip8`: fixed-point sum → byte.
fn clip8(sum: i64) -> u8 {
    (sum >> PRECISION_BITS).clamp(0, 255) as u8
}

/// One resampling pass over interleaved RGB rows: `horizontal` resamples x, else y.
fn pass(src: &[u8], width: usize, height: usize, c: &Coefficients, horizontal: bool) -> Vec<u8> {
    let (out_w, out_h) = if horizontal {
        (c.bounds.len(), height)
    } else {
        (width, c.bounds.len())
    };
    let mut out = vec![0u8; out_w * out_h * 3];
    for y in 0..out_h {
        for x in 0..out_w {
            let o = if horizontal { x } else { y };
            let (first, count) = c.bounds[o];
            let taps = &c.weights[o * c.ksize..o * c.ksize + count];
            let mut sums = [1i64 << (PRECISION_BITS - 1); 3];
            for (t, &w) in taps.iter().enumerate() {
                let (sx, sy) = if horizontal {
                    (first + t, y)
                } else {
                    (x, first + t)
                };
                let p = (sy * width + sx) * 3;
                for ch in 0..3 {
                    sums[ch] += i64::from(src[p + ch]) * i64::from(w);
                }
            }
            let q = (y * out_w + x) * 3;
            for ch in 0..3 {
                out[q + ch] = clip8(sums[ch]);
            }
        }
    }
    out
}

/// `image.resize((width, height), Image.BILINEAR)` as Pillow computes it: horizontal pass,
/// then vertical, each skipped when that side keeps its size.
pub fn resize_bilinear_like_pil(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let mut pixels = image.as_raw().clone();
    let mut cur_w = w;
    if width as usize != w {
        pixels = pass(&pixels, w, h, &coefficients(w, width as usize), true);
        cur_w = width as usize;
    }
    if height as usize != h {
        pixels = pass(&pixels, cur_w, h, &coefficients(h, height as usize), false);
    }
    RgbImage::from_raw(width, height, pixels).expect("resampled buffer has the output size")
}
