//! The DAC discriminator as the reference trains with it (`rates = []`, so no multi-scale
//! part): five period discriminators and three multi-band complex-STFT discriminators on
//! DC-removed, peak-normalised input, with DAC's LSGAN and feature-matching terms.
//!
//! Not the Vocos discriminators of [`crate::discriminator`]: DAC's period discriminator
//! always pads (a whole extra period when the length divides), keeps the first conv in
//! feature matching, and its losses are least squares summed over sub-discriminators.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{backend::Backend, Tensor};

use crate::discriminator::{leaky_convs, PeriodDiscriminator, Verdict};
use crate::stft::Stft;
use crate::weight_norm_conv2d::WeightNormConv2d;
use simvq_quant::SeededInit;

/// Frequency bands of the multi-band discriminator, as fractions of the one-sided bins.
const BANDS: [(f64, f64); 5] = [
    (0.0, 0.1),
    (0.1, 0.25),
    (0.25, 0.5),
    (0.5, 0.75),
    (0.75, 1.0),
];
/// Peak amplitude the input is normalised to.
const PEAK: f64 = 0.8;

/// Configuration of [`DacDiscriminator`].
#[derive(Config, Debug, PartialEq)]
pub struct DacConfig {
    /// Periods of the period discriminators.
    #[config(default = "vec![2, 3, 5, 7, 11]")]
    pub periods: Vec<usize>,
    /// STFT window lengths of the multi-band discriminators (hop = window / 4).
    #[config(default = "vec![2048, 1024, 512]")]
    pub fft_sizes: Vec<usize>,
    /// Conv widths of the period discriminators (DAC's; narrower for small demos).
    #[config(default = "vec![32, 128, 512, 1024, 1024]")]
    pub period_channels: Vec<usize>,
    /// Conv width of the multi-band discriminators (32 in DAC).
    #[config(default = 32)]
    pub band_channels: usize,
}

/// One band's conv stack: (3, 9) convs, the middle three striding over frequency.
#[derive(Module, Debug)]
struct BandStack<B: Backend> {
    convs: Vec<WeightNormConv2d<B>>,
}

impl<B: Backend> BandStack<B> {
    fn new(ch: usize, init: &SeededInit<B>) -> Self {
        let convs = (0..5)
            .map(|i| {
                let cin = if i == 0 { 2 } else { ch };
                match i {
                    0 => WeightNormConv2d::new([cin, ch], [3, 9], [1, 1], [1, 4], init),
                    4 => WeightNormConv2d::new([cin, ch], [3, 3], [1, 1], [1, 1], init),
                    _ => WeightNormConv2d::new([cin, ch], [3, 9], [1, 2], [1, 4], init),
                }
            })
            .collect();
        Self { convs }
    }
}

/// DAC's multi-band discriminator at one STFT size: the complex spectrogram (rectangular
/// window, hop = window / 4) as a two-channel `[B, 2, T, F]` image, split into five frequency
/// bands with a conv stack each, re-joined along frequency, one output conv.
#[derive(Module, Debug)]
pub struct DacBandDiscriminator<B: Backend> {
    stft: Stft<B>,
    bands: Vec<BandStack<B>>,
    conv_post: WeightNormConv2d<B>,
    /// `[start, end)` bin of each band.
    ranges: Vec<(usize, usize)>,
}

impl<B: Backend> DacBandDiscriminator<B> {
    fn new(window: usize, channels: usize, init: &SeededInit<B>) -> Self {
        let bins = window / 2 + 1;
        let ranges = BANDS
            .iter()
            .map(|&(lo, hi)| ((lo * bins as f64) as usize, (hi * bins as f64) as usize))
            .collect();
        Self {
            stft: Stft::new(window, window / 4, &vec![1.0; window], init.device()),
            bands: (0..BANDS.len())
                .map(|_| BandStack::new(channels, init))
                .collect(),
            conv_post: WeightNormConv2d::new([channels, 1], [3, 3], [1, 1], [1, 1], init),
            ranges,
        }
    }

    /// The verdict on (preprocessed) waveforms `[B, T]`.
    pub fn forward(&self, wave: Tensor<B, 2>) -> Verdict<B> {
        let (real, imag) = self.stft.complex(wave);
        // [B, F, T] ×2 → [B, 2, T, F]
        let spectrogram = Tensor::stack::<4>(vec![real, imag], 1).swap_dims(2, 3);
        let mut features = Vec::with_capacity(5 * self.bands.len() + 1);
        let mut outputs = Vec::with_capacity(self.bands.len());
        for (stack, &(start, end)) in self.bands.iter().zip(&self.ranges) {
            let band = spectrogram.clone().narrow(3, start, end - start);
            outputs.push(leaky_convs(band, &stack.convs, 0, &mut features));
        }
        Verdict::new(self.conv_post.forward(Tensor::cat(outputs, 3)), features)
    }
}

/// The DAC discriminator: period discriminators then multi-band discriminators.
#[derive(Module, Debug)]
pub struct DacDiscriminator<B: Backend> {
    periods: Vec<PeriodDiscriminator<B>>,
    bands: Vec<DacBandDiscriminator<B>>,
}

impl DacConfig {
    /// Builds the discriminator.
    pub fn init<B: Backend>(&self, init: &SeededInit<B>) -> DacDiscriminator<B> {
        DacDiscriminator {
            periods: self
                .periods
                .iter()
                .map(|&p| PeriodDiscriminator::dac(p, &self.period_channels, init))
                .collect(),
            bands: self
                .fft_sizes
                .iter()
                .map(|&w| DacBandDiscriminator::new(w, self.band_channels, init))
                .collect(),
        }
    }
}

impl<B: Backend> DacDiscriminator<B> {
    /// One verdict per sub-discriminator (periods first) on raw waveforms `[B, T]`.
    pub fn forward(&self, wave: Tensor<B, 2>) -> Vec<Verdict<B>> {
        let x = dac_preprocess(wave);
        self.periods
            .iter()
            .map(|d| d.forward(x.clone()))
            .chain(self.bands.iter().map(|d| d.forward(x.clone())))
            .collect()
    }
}

/// DAC's input normalisation per example: remove the mean, scale the peak to 0.8.
pub fn dac_preprocess<B: Backend>(wave: Tensor<B, 2>) -> Tensor<B, 2> {
    let centred = wave.clone() - wave.mean_dim(1);
    let peak = centred.clone().abs().max_dim(1).add_scalar(1e-9);
    centred * PEAK / peak
}

/// DAC's discriminator loss: `Σ_d mean(D_d(x̂)²) + mean((1 − D_d(x))²)`.
pub fn lsgan_discriminator_loss<B: Backend>(
    real: &[Verdict<B>],
    fake: &[Verdict<B>],
) -> Tensor<B, 1> {
    sum(real.iter().zip(fake).map(|(r, f)| {
        f.logits.clone().powi_scalar(2).mean()
            + r.logits.clone().neg().add_scalar(1.0).powi_scalar(2).mean()
    }))
}

/// DAC's generator loss: `Σ_d mean((1 − D_d(x̂))²)`.
pub fn lsgan_generator_loss<B: Backend>(fake: &[Verdict<B>]) -> Tensor<B, 1> {
    sum(fake
        .iter()
        .map(|f| f.logits.clone().neg().add_scalar(1.0).powi_scalar(2).mean()))
}

/// DAC's feature matching: `Σ_d Σ_{l ≠ last} mean |f_g − sg(f_r)|` (the logit map is left out
/// and the real features are detached, unlike Vocos').
pub fn dac_feature_matching_loss<B: Backend>(
    real: &[Verdict<B>],
    fake: &[Verdict<B>],
) -> Tensor<B, 1> {
    sum(real.iter().zip(fake).flat_map(|(r, f)| {
        let layers = r.features.len() - 1;
        r.features[..layers]
            .iter()
            .zip(&f.features[..layers])
            .map(|(a, b)| (b.clone() - a.clone().detach()).abs().mean())
    }))
}

fn sum<B: Backend>(terms: impl Iterator<Item = Tensor<B, 1>>) -> Tensor<B, 1> {
    terms.reduce(|a, b| a + b).expect("at least one term")
}
