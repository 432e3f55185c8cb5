//! STOI, the short-time objective intelligibility of Taal et al. (2011), as pystoi 0.4.1
//! computes it (the classic measure, not the extended one): both signals resampled to 10 kHz
//! with pystoi's Octave-compatible polyphase filter, silent frames of the clean signal (40 dB
//! below its loudest) removed from both, one-third-octave band envelopes over 384 ms segments,
//! clipped and correlated.
//!
//! Written out in `f64` rather than reusing an FFT or resampling crate: parity with pystoi
//! needs its exact Kaiser-windowed resampling filter and frame boundaries.

use std::f64::consts::PI;

use crate::error::MetricsError;

/// pystoi's internal rate.
const FS: u32 = 10_000;
/// Frame length (samples at 10 kHz).
const FRAME: usize = 256;
/// FFT size (frames zero-padded).
const NFFT: usize = 512;
/// One-third-octave bands.
const BANDS: usize = 15;
/// Centre frequency of the lowest band (Hz).
const MIN_FREQ: f64 = 150.0;
/// Frames per intermediate-intelligibility segment.
const SEGMENT: usize = 30;
/// Lower signal-to-distortion bound (dB) of the clipping.
const BETA_DB: f64 = -15.0;
/// Dynamic range kept by the silent-frame removal (dB).
const DYN_RANGE: f64 = 40.0;
/// numpy's `finfo(float).eps`.
const EPS: f64 = f64::EPSILON;

/// STOI of `processed` against `clean` (same length), both at `sample_rate`, in `[0, 1]`-ish
/// (correlations can go slightly negative). Signals too short for one 30-frame segment after
/// silence removal score 1e-5, as pystoi returns (with a warning there).
pub fn stoi(clean: &[f32], processed: &[f32], sample_rate: u32) -> Result<f64, MetricsError> {
    if clean.len() != processed.len() {
        return Err(MetricsError::LengthMismatch {
            clean: clean.len(),
            processed: processed.len(),
        });
    }
    if sample_rate == 0 {
        return Err(MetricsError::SampleRate(sample_rate));
    }
    let widen = |x: &[f32]| x.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>();
    Ok(stoi_f64(&widen(clean), &widen(processed), sample_rate))
}

/// [`stoi`] on `f64` samples.
pub fn stoi_f64(clean: &[f64], processed: &[f64], sample_rate: u32) -> f64 {
    let (x, y) = if sample_rate == FS {
        (clean.to_vec(), processed.to_vec())
    } else {
        (
            resample_octave(clean, FS, sample_rate),
            resample_octave(processed, FS, sample_rate),
        )
    };
    let (x, y) = remove_silent_frames(&x, &y);
    let x_spec = power_spectrogram(&x);
    let y_spec = power_spectrogram(&y);
    if x_spec.len() < SEGMENT {
        return 1e-5;
    }
    let bands = third_octave_bands();
    // [frames][bands] envelopes.
    let envelopes = |spec: &[Vec<f64>]| -> Vec<[f64; BANDS]> {
        spec.iter()
            .map(|power| {
                std::array::from_fn(|b| {
                    let (lo, hi) = bands[b];
                    power[lo..hi].iter().sum::<f64>().sqrt()
                })
            })
            .collect()
    };
    let x_tob = envelopes(&x_spec);
    let y_tob = envelopes(&y_spec);
    let clip = 1.0 + 10f64.powf(-BETA_DB / 20.0);
    let segments = x_tob.len() - SEGMENT + 1;
    let mut total = 0.0;
    for start in 0..segments {
        for band in 0..BANDS {
            let xs: Vec<f64> = (start..start + SEGMENT).map(|m| x_tob[m][band]).collect();
            let ys: Vec<f64> = (start..start + SEGMENT).map(|m| y_tob[m][band]).collect();
            let scale = norm(&xs) / (norm(&ys) + EPS);
            let y_prime: Vec<f64> = ys
                .iter()
                .zip(&xs)
                .map(|(&y, &x)| (y * scale).min(x * clip))
                .collect();
            total += correlation(&y_prime, &xs);
        }
    }
    total / (segments * BANDS) as f64
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// pystoi's centred, normalised inner product (each side divided by `norm + eps`).
fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let centre = |v: &[f64]| {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let c: Vec<f64> = v.iter().map(|x| x - mean).collect();
        let n = norm(&c) + EPS;
        c.into_iter().map(|x| x / n).collect::<Vec<f64>>()
    };
    centre(a).iter().zip(&centre(b)).map(|(x, y)| x * y).sum()
}

/// MATLAB's `hanning(n)`: numpy's `hanning(n + 2)[1:-1]`.
fn hanning(n: usize) -> Vec<f64> {
    let m = (n + 2) as f64;
    (1..=n)
        .map(|i| 0.5 - 0.5 * (2.0 * PI * i as f64 / (m - 1.0)).cos())
        .collect()
}

/// Start of every frame pystoi takes: `range(0, len − frame, hop)` (the last partial or
/// exact frame is left out).
fn frame_starts(len: usize, frame: usize, hop: usize) -> impl Iterator<Item = usize> {
    (0..len.saturating_sub(frame)).step_by(hop)
}

/// pystoi's `remove_silent_frames`: Hann-windowed frames (256, hop 128) of both signals, those
/// whose clean energy is more than 40 dB under the loudest dropped, the rest overlap-added.
fn remove_silent_frames(x: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let hop = FRAME / 2;
    let window = hanning(FRAME);
    let frames = |s: &[f64]| -> Vec<Vec<f64>> {
        frame_starts(x.len(), FRAME, hop)
            .map(|i| (0..FRAME).map(|k| window[k] * s[i + k]).collect())
            .collect()
    };
    let x_frames = frames(x);
    let y_frames = frames(y);
    let energies: Vec<f64> = x_frames
        .iter()
        .map(|f| 20.0 * (norm(f) + EPS).log10())
        .collect();
    let loudest = energies.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let keep: Vec<usize> = (0..energies.len())
        .filter(|&i| loudest - DYN_RANGE - energies[i] < 0.0)
        .collect();
    let overlap_add = |frames: &[Vec<f64>]| -> Vec<f64> {
        if keep.is_empty() {
            return Vec::new();
        }
        let mut out = vec![0.0; (keep.len() - 1) * hop + FRAME];
        for (n, &i) in keep.iter().enumerate() {
            for (k, v) in frames[i].iter().enumerate() {
                out[n * hop + k] += v;
            }
        }
        out
    };
    (overlap_add(&x_frames), overlap_add(&y_frames))
}

/// `|rfft(hanning · frame, 512)|²` of frames of 256 with hop 128, `[frames][257]`.
fn power_spectrogram(x: &[f64]) -> Vec<Vec<f64>> {
    let window = hanning(FRAME);
    let bins = NFFT / 2 + 1;
    let (cos, sin): (Vec<f64>, Vec<f64>) = (0..NFFT)
        .map(|i| {
            let angle = 2.0 * PI * i as f64 / NFFT as f64;
            (angle.cos(), angle.sin())
        })
        .unzip();
    frame_starts(x.len(), FRAME, FRAME / 2)
        .map(|start| {
            let frame: Vec<f64> = (0..FRAME).map(|k| window[k] * x[start + k]).collect();
            (0..bins)
                .map(|b| {
                    let (mut re, mut im) = (0.0, 0.0);
                    for (t, v) in frame.iter().enumerate() {
                        let i = (b * t) % NFFT;
                        re += v * cos[i];
                        im -= v * sin[i];
                    }
                    re * re + im * im
                })
                .collect()
        })
        .collect()
}

/// pystoi's `thirdoct(10000, 512, 15, 150)`: for each band, the FFT bins `[lo, hi)` nearest to
/// its edges.
fn third_octave_bands() -> [(usize, usize); BANDS] {
    let bins = NFFT / 2 + 1;
    let freq = |i: usize| f64::from(FS) * i as f64 / NFFT as f64;
    let nearest = |f: f64| {
        (0..bins)
            .min_by(|&a, &b| {
                let (da, db) = ((freq(a) - f).powi(2), (freq(b) - f).powi(2));
                da.partial_cmp(&db).expect("finite")
            })
            .expect("bins")
    };
    std::array::from_fn(|k| {
        let k = k as f64;
        let low = MIN_FREQ * 2f64.powf((2.0 * k - 1.0) / 6.0);
        let high = MIN_FREQ * 2f64.powf((2.0 * k + 1.0) / 6.0);
        (nearest(low), nearest(high))
    })
}

/// pystoi's `resample_oct(x, p, q)`: rate × p/q with the Octave `resample` filter (Kaiser
/// window, 60 dB rejection) through scipy's `resample_poly`.
pub fn resample_octave(x: &[f64], p: u32, q: u32) -> Vec<f64> {
    let g = gcd(p, q);
    let (up, down) = ((p / g) as usize, (q / g) as usize);
    if up == down {
        return x.to_vec();
    }
    let h = octave_filter(up, down);
    // scipy.signal.resample_poly with this window.
    let half_len = (h.len() - 1) / 2;
    let n_in = x.len();
    let n_out = (n_in * up).div_ceil(down);
    let n_pre_pad = down - half_len % down;
    let n_pre_remove = (half_len + n_pre_pad) / down;
    let len_h = h.len() + n_pre_pad;
    let mut padded = vec![0.0; n_pre_pad];
    padded.extend(h.iter().map(|v| v * up as f64));
    (n_pre_remove..n_pre_remove + n_out)
        .map(|i| {
            // upfirdn: y[i] = Σ_j x[j] · h[i·down − j·up] over the taps in range.
            let n = i * down;
            let first = (n + 1).saturating_sub(len_h).div_ceil(up);
            let last = (n / up).min(n_in.saturating_sub(1));
            (first..=last)
                .filter(|&j| j < n_in)
                .map(|j| x[j] * padded.get(n - j * up).copied().unwrap_or(0.0))
                .sum()
        })
        .collect()
}

/// pystoi's `_resample_window_oct(p, q)` normalised to unit sum.
fn octave_filter(p: usize, q: usize) -> Vec<f64> {
    let log10_rejection = -3.0;
    let stopband_cutoff = 1.0 / (2.0 * p.max(q) as f64);
    let roll_off_width = stopband_cutoff / 10.0;
    let rejection_db = -20.0 * log10_rejection;
    let l = ((rejection_db - 8.0) / (28.714 * roll_off_width)).ceil() as i64;
    let beta = if (21.0..=50.0).contains(&rejection_db) {
        0.5842 * (rejection_db - 21.0).powf(0.4) + 0.07886 * (rejection_db - 21.0)
    } else if rejection_db > 50.0 {
        0.1102 * (rejection_db - 8.7)
    } else {
        0.0
    };
    let taps = (2 * l + 1) as usize;
    let h: Vec<f64> = (-l..=l)
        .enumerate()
        .map(|(n, t)| {
            let ideal = 2.0 * p as f64 * stopband_cutoff * sinc(2.0 * stopband_cutoff * t as f64);
            kaiser(n, taps, beta) * ideal
        })
        .collect();
    let sum: f64 = h.iter().sum();
    h.into_iter().map(|v| v / sum).collect()
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        (PI * x).sin() / (PI * x)
    }
}

/// numpy's `kaiser(m, beta)[n]`.
fn kaiser(n: usize, m: usize, beta: f64) -> f64 {
    let alpha = (m - 1) as f64 / 2.0;
    let r = (n as f64 - alpha) / alpha;
    bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / bessel_i0(beta)
}

/// The modified Bessel function `I0` by its power series (converges fast for the β < 10 of
/// the filters here).
fn bessel_i0(x: f64) -> f64 {
    let quarter = x * x / 4.0;
    let (mut term, mut sum, mut k) = (1.0, 1.0, 1.0);
    while term > sum * 1e-17 {
        term *= quarter / (k * k);
        sum += term;
        k += 1.0;
    }
    sum
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}
