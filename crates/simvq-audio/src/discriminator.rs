//! The multi-period discriminator (HiFi-GAN's) and the multi-resolution discriminator
//! (UnivNet's), as Vocos 0.0.3 and the reference use them, and the Vocos GAN terms built on
//! them: hinge losses and feature matching, averaged over sub-discriminators.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::activation::{leaky_relu, relu};
use burn::tensor::ops::PadMode;
use burn::tensor::{backend::Backend, Tensor};

use crate::stft::Stft;
use crate::weight_norm_conv2d::WeightNormConv2d;
use simvq_quant::SeededInit;

/// Slope of the discriminator's LeakyReLUs.
const SLOPE: f64 = 0.1;

/// Runs `convs` on `h`, each followed by a LeakyReLU, appending the activations from conv
/// `first_feature` on to `features`.
pub(crate) fn leaky_convs<B: Backend>(
    mut h: Tensor<B, 4>,
    convs: &[WeightNormConv2d<B>],
    first_feature: usize,
    features: &mut Vec<Tensor<B, 4>>,
) -> Tensor<B, 4> {
    for (i, conv) in convs.iter().enumerate() {
        h = leaky_relu(conv.forward(h), SLOPE);
        if i >= first_feature {
            features.push(h.clone());
        }
    }
    h
}

impl<B: Backend> Verdict<B> {
    /// The verdict whose logits are the map `logits` (`[B, 1, H, W]`), which also ends the
    /// feature maps.
    pub(crate) fn new(logits: Tensor<B, 4>, mut features: Vec<Tensor<B, 4>>) -> Self {
        let batch = logits.dims()[0];
        features.push(logits.clone());
        Self {
            logits: logits.reshape([batch as i32, -1]),
            features,
        }
    }
}

/// Runs `convs` (each followed by a LeakyReLU) and `conv_post` on `h`; the feature maps are
/// the activations from conv `first_feature` on, then the logit map.
fn conv_stack<B: Backend>(
    h: Tensor<B, 4>,
    convs: &[WeightNormConv2d<B>],
    conv_post: &WeightNormConv2d<B>,
    first_feature: usize,
) -> Verdict<B> {
    let mut features = Vec::with_capacity(convs.len() + 1);
    let h = leaky_convs(h, convs, first_feature, &mut features);
    Verdict::new(conv_post.forward(h), features)
}

/// One period of the MPD (HiFi-GAN's, or DAC's variant): the waveform folded into
/// `[B, 1, T/p, p]`, five `(5, 1)` convs (stride 3 but the last), a `(3, 1)` output conv.
#[derive(Module, Debug)]
pub struct PeriodDiscriminator<B: Backend> {
    convs: Vec<WeightNormConv2d<B>>,
    conv_post: WeightNormConv2d<B>,
    period: usize,
    always_pad: bool,
    first_feature: usize,
}

/// A discriminator's verdict: per-example logits `[B, N]` and the feature maps compared by
/// feature matching (the last one is the logit map).
#[derive(Debug, Clone)]
pub struct Verdict<B: Backend> {
    /// Flattened logits.
    pub logits: Tensor<B, 2>,
    /// Feature maps.
    pub features: Vec<Tensor<B, 4>>,
}

/// HiFi-GAN's period stack (shared with DAC's): `(5, 1)` convs from 1 channel through
/// `channels` (stride 3 but the last), then a `(3, 1)` output conv.
fn period_convs<B: Backend>(
    channels: &[usize],
    init: &SeededInit<B>,
) -> (Vec<WeightNormConv2d<B>>, WeightNormConv2d<B>) {
    let mut cin = 1;
    let convs = channels
        .iter()
        .enumerate()
        .map(|(i, &cout)| {
            let stride = if i + 1 < channels.len() { 3 } else { 1 };
            let conv = WeightNormConv2d::new([cin, cout], [5, 1], [stride, 1], [2, 0], init);
            cin = cout;
            conv
        })
        .collect();
    let post = WeightNormConv2d::new([cin, 1], [3, 1], [1, 1], [1, 0], init);
    (convs, post)
}

impl<B: Backend> PeriodDiscriminator<B> {
    /// HiFi-GAN's (Vocos'): pads only when the length is not a multiple of the period, and
    /// leaves the first conv's output out of feature matching.
    pub(crate) fn hifigan(period: usize, channels: &[usize], init: &SeededInit<B>) -> Self {
        let (convs, conv_post) = period_convs(channels, init);
        Self {
            convs,
            conv_post,
            period,
            always_pad: false,
            first_feature: 1,
        }
    }

    /// DAC's: pads `p − T mod p` unconditionally (a whole period when `T` divides) and keeps
    /// every conv's output as a feature.
    pub(crate) fn dac(period: usize, channels: &[usize], init: &SeededInit<B>) -> Self {
        Self {
            always_pad: true,
            first_feature: 0,
            ..Self::hifigan(period, channels, init)
        }
    }

    /// The verdict on waveforms `[B, T]`.
    pub fn forward(&self, wave: Tensor<B, 2>) -> Verdict<B> {
        let [batch, length] = wave.dims();
        let p = self.period;
        let pad = if self.always_pad || !length.is_multiple_of(p) {
            p - length % p
        } else {
            0
        };
        let mut x = wave.reshape([batch, 1, length]);
        if pad > 0 {
            x = x.pad([(0, pad)], PadMode::Reflect);
        }
        let rows = (length + pad) / p;
        conv_stack(
            x.reshape([batch, 1, rows, p]),
            &self.convs,
            &self.conv_post,
            self.first_feature,
        )
    }
}

/// Configuration of [`MultiPeriodDiscriminator`].
#[derive(Config, Debug, PartialEq)]
pub struct MultiPeriodConfig {
    /// Periods (the reference: 2, 3, 5, 7, 11).
    #[config(default = "vec![2, 3, 5, 7, 11]")]
    pub periods: Vec<usize>,
    /// Widths of the five convs (HiFi-GAN's; narrower ones for small demos).
    #[config(default = "vec![32, 128, 512, 1024, 1024]")]
    pub channels: Vec<usize>,
}

/// The multi-period discriminator.
#[derive(Module, Debug)]
pub struct MultiPeriodDiscriminator<B: Backend> {
    discriminators: Vec<PeriodDiscriminator<B>>,
}

impl MultiPeriodConfig {
    /// Builds the discriminator.
    pub fn init<B: Backend>(&self, init: &SeededInit<B>) -> MultiPeriodDiscriminator<B> {
        MultiPeriodDiscriminator {
            discriminators: self
                .periods
                .iter()
                .map(|&p| PeriodDiscriminator::hifigan(p, &self.channels, init))
                .collect(),
        }
    }
}

impl<B: Backend> MultiPeriodDiscriminator<B> {
    /// One verdict per period.
    pub fn forward(&self, wave: Tensor<B, 2>) -> Vec<Verdict<B>> {
        self.discriminators
            .iter()
            .map(|d| d.forward(wave.clone()))
            .collect()
    }
}

/// One resolution of the MRD: `|STFT|` with a rectangular window as a `[B, 1, F, T]` image,
/// five convs (7×5 s2×2, 5×3 s2×1, 5×3 s2×2, 3×3 s2×1, 3×3 s2×2) and a 3×3 output conv.
#[derive(Module, Debug)]
pub struct ResolutionDiscriminator<B: Backend> {
    stft: Stft<B>,
    convs: Vec<WeightNormConv2d<B>>,
    conv_post: WeightNormConv2d<B>,
}

impl<B: Backend> ResolutionDiscriminator<B> {
    fn new(n_fft: usize, hop: usize, channels: usize, init: &SeededInit<B>) -> Self {
        let layers: [([usize; 2], [usize; 2], [usize; 2]); 5] = [
            ([7, 5], [2, 2], [3, 2]),
            ([5, 3], [2, 1], [2, 1]),
            ([5, 3], [2, 2], [2, 1]),
            ([3, 3], [2, 1], [1, 1]),
            ([3, 3], [2, 2], [1, 1]),
        ];
        let convs = layers
            .iter()
            .enumerate()
            .map(|(i, &(kernel, stride, padding))| {
                let cin = if i == 0 { 1 } else { channels };
                WeightNormConv2d::new([cin, channels], kernel, stride, padding, init)
            })
            .collect();
        Self {
            stft: Stft::new(n_fft, hop, &vec![1.0; n_fft], init.device()),
            convs,
            conv_post: WeightNormConv2d::new([channels, 1], [3, 3], [1, 1], [1, 1], init),
        }
    }

    /// The verdict on waveforms `[B, T]`.
    pub fn forward(&self, wave: Tensor<B, 2>) -> Verdict<B> {
        let spectrogram = self.stft.magnitude(wave).unsqueeze_dim::<4>(1);
        conv_stack(spectrogram, &self.convs, &self.conv_post, 0)
    }
}

/// Configuration of [`MultiResolutionDiscriminator`].
#[derive(Config, Debug, PartialEq)]
pub struct MultiResolutionConfig {
    /// `(n_fft, hop)` per resolution (window = n_fft, rectangular).
    #[config(default = "vec![(1024, 256), (2048, 512), (512, 128)]")]
    pub resolutions: Vec<(usize, usize)>,
    /// Conv width.
    #[config(default = 64)]
    pub channels: usize,
}

/// The multi-resolution discriminator.
#[derive(Module, Debug)]
pub struct MultiResolutionDiscriminator<B: Backend> {
    discriminators: Vec<ResolutionDiscriminator<B>>,
}

impl MultiResolutionConfig {
    /// Builds the discriminator.
    pub fn init<B: Backend>(&self, init: &SeededInit<B>) -> MultiResolutionDiscriminator<B> {
        MultiResolutionDiscriminator {
            discriminators: self
                .resolutions
                .iter()
                .map(|&(n_fft, hop)| ResolutionDiscriminator::new(n_fft, hop, self.channels, init))
                .collect(),
        }
    }
}

impl<B: Backend> MultiResolutionDiscriminator<B> {
    /// One verdict per resolution.
    pub fn forward(&self, wave: Tensor<B, 2>) -> Vec<Verdict<B>> {
        self.discriminators
            .iter()
            .map(|d| d.forward(wave.clone()))
            .collect()
    }
}

/// Vocos' discriminator loss: `Σ_d [mean relu(1 − D_d(x)) + mean relu(1 + D_d(x̂))] / #d`.
pub fn hinge_discriminator_loss<B: Backend>(
    real: &[Verdict<B>],
    fake: &[Verdict<B>],
) -> Tensor<B, 1> {
    let terms = real.iter().zip(fake).map(|(r, f)| {
        relu(r.logits.clone().neg().add_scalar(1.0)).mean()
            + relu(f.logits.clone().add_scalar(1.0)).mean()
    });
    average(terms, real.len())
}

/// Vocos' generator loss: `Σ_d mean relu(1 − D_d(x̂)) / #d`.
pub fn hinge_generator_loss<B: Backend>(fake: &[Verdict<B>]) -> Tensor<B, 1> {
    let terms = fake
        .iter()
        .map(|f| relu(f.logits.clone().neg().add_scalar(1.0)).mean());
    average(terms, fake.len())
}

/// Vocos' feature matching: `Σ_d Σ_l mean |f_r − f_g| / #d` (real features not detached, as
/// the reference).
pub fn feature_matching_loss<B: Backend>(real: &[Verdict<B>], fake: &[Verdict<B>]) -> Tensor<B, 1> {
    let terms = real.iter().zip(fake).map(|(r, f)| {
        r.features
            .iter()
            .zip(&f.features)
            .map(|(a, b)| (a.clone() - b.clone()).abs().mean())
            .reduce(|x, y| x + y)
            .expect("every sub-discriminator has feature maps")
    });
    average(terms, real.len())
}

fn average<B: Backend>(terms: impl Iterator<Item = Tensor<B, 1>>, count: usize) -> Tensor<B, 1> {
    terms
        .reduce(|a, b| a + b)
        .expect("at least one sub-discriminator")
        / count as f64
}
