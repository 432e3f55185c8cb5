//! The iSTFT head: features → log-magnitude and phase → waveform.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{backend::Backend, Tensor};

use crate::error::Result;
use crate::istft::Istft;
use simvq_quant::SeededInit;

/// Largest magnitude the head may produce (`exp` is clipped here, as the reference).
const MAX_MAGNITUDE: f64 = 100.0;

/// `Linear(dim → n_fft + 2)`, split into log-magnitude and phase, `S = min(e^m, 100)·e^{ip}`,
/// iSTFT with "same" padding.
#[derive(Module, Debug)]
pub struct IstftHead<B: Backend> {
    out: Linear<B>,
    istft: Istft<B>,
    bins: usize,
}

impl<B: Backend> IstftHead<B> {
    /// The head for features of width `dim`.
    pub fn new(dim: usize, n_fft: usize, hop: usize, init: &SeededInit<B>) -> Result<Self> {
        Ok(Self {
            out: init.linear(&LinearConfig::new(dim, n_fft + 2)),
            istft: Istft::new(n_fft, hop, init.device())?,
            bins: n_fft / 2 + 1,
        })
    }

    /// `[B, T, dim] → [B, hop · T]`.
    pub fn forward(&self, features: Tensor<B, 3>) -> Tensor<B, 2> {
        let x = self.out.forward(features).swap_dims(1, 2); // [B, n_fft + 2, T]
        let log_magnitude = x.clone().narrow(1, 0, self.bins);
        let phase = x.narrow(1, self.bins, self.bins);
        self.synthesize(log_magnitude, phase)
    }

    /// The waveform of a log-magnitude and phase `[B, n_fft/2 + 1, T]`.
    pub fn synthesize(&self, log_magnitude: Tensor<B, 3>, phase: Tensor<B, 3>) -> Tensor<B, 2> {
        let magnitude = log_magnitude.exp().clamp_max(MAX_MAGNITUDE);
        let real = magnitude.clone() * phase.clone().cos();
        let imag = magnitude * phase.sin();
        self.istft.forward(real, imag)
    }
}
