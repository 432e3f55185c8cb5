//! The STFT as a strided convolution with a windowed DFT basis (torch's `stft` with
//! `center=True`, reflect padding, one-sided, unnormalised): differentiable on every backend
//! and for any FFT size, which burn 0.21's FFT is not.

use std::f64::consts::PI;

use burn::module::Module;
use burn::tensor::module::conv1d;
use burn::tensor::ops::{ConvOptions, PadMode};
use burn::tensor::{backend::Backend, Tensor, TensorData};

/// Added under the square root of `re² + im²` so its gradient stays finite at silence; moves a
/// magnitude by at most 1e-10, far below any log floor (a larger one would lift the quiet
/// bands a log magnifies).
const SQRT_EPS: f64 = 1e-20;

/// The one-sided STFT with a given window: complex components or magnitudes.
#[derive(Module, Debug)]
pub struct Stft<B: Backend> {
    /// `[2·(n_fft/2 + 1), 1, n_fft]`: windowed cosines, then windowed negative sines.
    dft: Tensor<B, 3>,
    n_fft: usize,
    hop: usize,
}

impl<B: Backend> Stft<B> {
    /// The transform with `window` (length `n_fft`; all ones is torch's `window=None`).
    pub fn new(n_fft: usize, hop: usize, window: &[f64], device: &B::Device) -> Self {
        let bins = n_fft / 2 + 1;
        // f64 values: `from_data` rounds them to the device's dtype (f32 unless set otherwise).
        let mut dft = vec![0f64; 2 * bins * n_fft];
        for k in 0..bins {
            for t in 0..n_fft {
                let angle = 2.0 * PI * ((k * t) % n_fft) as f64 / n_fft as f64;
                dft[k * n_fft + t] = angle.cos() * window[t];
                dft[(bins + k) * n_fft + t] = -angle.sin() * window[t];
            }
        }
        Self {
            dft: Tensor::from_data(TensorData::new(dft, [2 * bins, 1, n_fft]), device),
            n_fft,
            hop,
        }
    }

    /// Waveforms `[B, L]` (L > n_fft/2) → real and imaginary parts, each
    /// `[B, n_fft/2 + 1, 1 + L / hop]`.
    pub fn complex(&self, wave: Tensor<B, 2>) -> (Tensor<B, 3>, Tensor<B, 3>) {
        let [batch, length] = wave.dims();
        let half = self.n_fft / 2;
        let padded = wave
            .reshape([batch, 1, length])
            .pad([(half, half)], PadMode::Reflect);
        let spectrum = conv1d(
            padded,
            self.dft.clone(),
            None,
            ConvOptions::new([self.hop], [0], [1], 1),
        );
        let bins = half + 1;
        let real = spectrum.clone().narrow(1, 0, bins);
        let imag = spectrum.narrow(1, bins, bins);
        (real, imag)
    }

    /// Waveforms `[B, L]` (L > n_fft/2) → magnitudes `[B, n_fft/2 + 1, 1 + L / hop]`.
    pub fn magnitude(&self, wave: Tensor<B, 2>) -> Tensor<B, 3> {
        let (real, imag) = self.complex(wave);
        (real.powf_scalar(2.0) + imag.powf_scalar(2.0))
            .add_scalar(SQRT_EPS)
            .sqrt()
    }
}
