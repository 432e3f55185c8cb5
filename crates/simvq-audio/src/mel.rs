//! The log-mel reconstruction loss of the reference (torchaudio's `MelSpectrogram` with 24 kHz,
//! n_fft 1024, hop 256, Hann window, 100 HTK mels over 0–12 kHz, no norm, power 1, centred with
//! reflect padding), as a strided convolution with a DFT basis: differentiable on every backend.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{backend::Backend, Tensor, TensorData};

use crate::istft::hann_window;
use crate::stft::Stft;

/// Settings of the mel spectrogram; defaults are the reference's loss.
#[derive(Config, Debug, PartialEq)]
pub struct MelConfig {
    /// Sample rate (Hz).
    #[config(default = 24_000)]
    pub sample_rate: usize,
    /// FFT size (= window length).
    #[config(default = 1024)]
    pub n_fft: usize,
    /// Hop between frames.
    #[config(default = 256)]
    pub hop: usize,
    /// Mel bands.
    #[config(default = 100)]
    pub n_mels: usize,
    /// Lowest band edge (Hz).
    #[config(default = 0.0)]
    pub f_min: f64,
    /// Highest band edge (Hz).
    #[config(default = 12_000.0)]
    pub f_max: f64,
}

/// Floor under the mel energies before the log (the reference's `clip_val`).
const LOG_FLOOR: f64 = 1e-7;

/// HTK mel scale.
fn hz_to_mel(f: f64) -> f64 {
    2595.0 * (1.0 + f / 700.0).log10()
}

fn mel_to_hz(m: f64) -> f64 {
    700.0 * (10f64.powf(m / 2595.0) - 1.0)
}

/// torchaudio's `melscale_fbanks(..., norm=None, mel_scale="htk")`: `[n_fft/2 + 1, n_mels]`.
pub fn mel_filterbank(config: &MelConfig) -> Vec<f64> {
    let n_freqs = config.n_fft / 2 + 1;
    let nyquist = (config.sample_rate / 2) as f64;
    let freqs: Vec<f64> = (0..n_freqs)
        .map(|i| nyquist * i as f64 / (n_freqs - 1) as f64)
        .collect();
    let (m_min, m_max) = (hz_to_mel(config.f_min), hz_to_mel(config.f_max));
    let points: Vec<f64> = (0..config.n_mels + 2)
        .map(|i| mel_to_hz(m_min + (m_max - m_min) * i as f64 / (config.n_mels + 1) as f64))
        .collect();
    let mut bank = vec![0.0; n_freqs * config.n_mels];
    for (i, f) in freqs.iter().enumerate() {
        for m in 0..config.n_mels {
            let down = (f - points[m]) / (points[m + 1] - points[m]);
            let up = (points[m + 2] - f) / (points[m + 2] - points[m + 1]);
            bank[i * config.n_mels + m] = down.min(up).max(0.0);
        }
    }
    bank
}

/// Magnitude mel spectrogram and the log-mel L1 loss.
#[derive(Module, Debug)]
pub struct MelSpectrogram<B: Backend> {
    stft: Stft<B>,
    /// `[n_fft/2 + 1, n_mels]`.
    filterbank: Tensor<B, 2>,
}

impl MelConfig {
    /// The spectrogram of `config` (periodic Hann window).
    pub fn init<B: Backend>(&self, device: &B::Device) -> MelSpectrogram<B> {
        let config = self;
        let bins = config.n_fft / 2 + 1;
        let bank = mel_filterbank(config);
        MelSpectrogram {
            stft: Stft::new(config.n_fft, config.hop, &hann_window(config.n_fft), device),
            filterbank: Tensor::from_data(TensorData::new(bank, [bins, config.n_mels]), device),
        }
    }
}

impl<B: Backend> MelSpectrogram<B> {
    /// Waveforms `[B, L]` (L > n_fft/2) → mel magnitudes `[B, n_mels, 1 + L / hop]`.
    pub fn forward(&self, wave: Tensor<B, 2>) -> Tensor<B, 3> {
        self.stft
            .magnitude(wave)
            .swap_dims(1, 2)
            .matmul(self.filterbank.clone().unsqueeze::<3>())
            .swap_dims(1, 2)
    }

    /// `mean |log(max(mel(x̂), 1e-7)) − log(max(mel(x), 1e-7))|`, shape `[1]`.
    pub fn log_mel_l1(&self, reconstruction: Tensor<B, 2>, target: Tensor<B, 2>) -> Tensor<B, 1> {
        let log_mel = |w: Tensor<B, 2>| self.forward(w).clamp_min(LOG_FLOOR).log();
        (log_mel(reconstruction) - log_mel(target))
            .abs()
            .mean()
            .reshape([1])
    }
}
