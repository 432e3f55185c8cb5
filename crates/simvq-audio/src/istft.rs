//! The inverse STFT of the Vocos/WavTokenizer head with `"same"` padding, written as a
//! DFT-basis matmul and an overlap-add of shifted slices: differentiable on every backend.
//! (burn 0.21's `irfft` panics under autodiff and wants power-of-two sizes; n_fft is 1280.)

use std::f64::consts::PI;

use burn::module::Module;
use burn::tensor::{backend::Backend, Tensor, TensorData};

use crate::error::{AudioError, Result};

/// Periodic Hann window of `length` (`torch.hann_window(length)`).
pub fn hann_window(length: usize) -> Vec<f64> {
    (0..length)
        .map(|n| 0.5 - 0.5 * (2.0 * PI * n as f64 / length as f64).cos())
        .collect()
}

/// iSTFT with `"same"` padding: frames of `n_fft` samples every `hop`, trimmed by
/// `(n_fft − hop) / 2` at both ends and divided by the overlap-added squared window, so `T`
/// frames give exactly `hop · T` samples.
#[derive(Module, Debug)]
pub struct Istft<B: Backend> {
    /// `[2·(n_fft/2 + 1), n_fft]`: rows `k` map `Re X_k`, rows `F + k` map `Im X_k` to the
    /// windowed frame (`irfft` with "backward" normalisation, times the window).
    basis: Tensor<B, 2>,
    n_fft: usize,
    hop: usize,
}

impl<B: Backend> Istft<B> {
    /// The transform for `n_fft` and `hop`; `n_fft` must be an even multiple of `hop`.
    pub fn new(n_fft: usize, hop: usize, device: &B::Device) -> Result<Self> {
        if hop == 0 || !n_fft.is_multiple_of(hop) || !n_fft.is_multiple_of(2) {
            return Err(AudioError::InvalidConfig(format!(
                "n_fft {n_fft} must be even and a multiple of hop {hop}"
            )));
        }
        let bins = n_fft / 2 + 1;
        let window = hann_window(n_fft);
        // f64 values: `from_data` rounds them to the device's dtype (f32 unless set otherwise).
        let mut basis = vec![0f64; 2 * bins * n_fft];
        for k in 0..bins {
            // irfft: DC and Nyquist once, the other bins twice (their conjugates); imaginary
            // parts of DC and Nyquist are ignored.
            let weight = if k == 0 || k == n_fft / 2 { 1.0 } else { 2.0 } / n_fft as f64;
            for n in 0..n_fft {
                let angle = 2.0 * PI * (k * n % n_fft) as f64 / n_fft as f64;
                basis[k * n_fft + n] = weight * angle.cos() * window[n];
                if k != 0 && k != n_fft / 2 {
                    basis[(bins + k) * n_fft + n] = -weight * angle.sin() * window[n];
                }
            }
        }
        Ok(Self {
            basis: Tensor::from_data(TensorData::new(basis, [2 * bins, n_fft]), device),
            n_fft,
            hop,
        })
    }

    /// Real and imaginary parts `[B, n_fft/2 + 1, T]` → waveform `[B, hop · T]`.
    pub fn forward(&self, real: Tensor<B, 3>, imag: Tensor<B, 3>) -> Tensor<B, 2> {
        let [batch, _, frames] = real.dims();
        let spectrum = Tensor::cat(vec![real, imag], 1).swap_dims(1, 2); // [B, T, 2F]
        let windowed = spectrum.matmul(self.basis.clone().unsqueeze::<3>()); // [B, T, n_fft]
        let overlap = self.n_fft / self.hop;
        let device = windowed.device();
        // Overlap-add: slice j of frame t lands in output block t + j.
        let mut sum: Option<Tensor<B, 3>> = None;
        for j in 0..overlap {
            let slice = windowed.clone().narrow(2, j * self.hop, self.hop);
            let mut parts = Vec::with_capacity(3);
            if j > 0 {
                parts.push(Tensor::zeros([batch, j, self.hop], &device));
            }
            parts.push(slice);
            if j + 1 < overlap {
                parts.push(Tensor::zeros([batch, overlap - 1 - j, self.hop], &device));
            }
            let shifted = Tensor::cat(parts, 1);
            sum = Some(match sum {
                Some(s) => s + shifted,
                None => shifted,
            });
        }
        let full_length = (frames + overlap - 1) * self.hop;
        let signal = sum
            .expect("at least one slice")
            .reshape([batch, full_length]);
        let trim = (self.n_fft - self.hop) / 2;
        let length = self.hop * frames;
        let envelope = self.envelope(frames, &device);
        signal.narrow(1, trim, length) / envelope.unsqueeze::<2>()
    }

    /// The overlap-added squared window over the kept samples (never zero inside).
    fn envelope(&self, frames: usize, device: &B::Device) -> Tensor<B, 1> {
        let window = hann_window(self.n_fft);
        let full_length = (frames - 1) * self.hop + self.n_fft;
        let mut envelope = vec![0f64; full_length];
        for t in 0..frames {
            for (n, w) in window.iter().enumerate() {
                envelope[t * self.hop + n] += w * w;
            }
        }
        let trim = (self.n_fft - self.hop) / 2;
        let kept = envelope[trim..trim + self.hop * frames].to_vec();
        Tensor::from_data(TensorData::new(kept, [self.hop * frames]), device)
    }
}
