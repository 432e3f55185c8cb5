//! fairseq's wav2vec 2.0 as UTMOS runs it (`wav2vec_small.pt`, the base model, fine-tuned inside
//! the UTMOS checkpoint; `ssl_model(wav, mask=False, features_only=True)["x"]`): a seven-layer
//! convolutional feature encoder (no biases, GroupNorm with one group per channel after the
//! first, GELU), LayerNorm and a linear projection, a weight-normed grouped positional
//! convolution, LayerNorm, and post-LN transformer layers. Inference only, built from the
//! state dict's tensors under fairseq's names; widths and depth are read from the tensors.

use burn::tensor::activation::{gelu, softmax};
use burn::tensor::backend::Backend;
use burn::tensor::module::conv1d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::Tensor;

use crate::error::MetricsError;
use crate::plain_layers::{Dense, Norm};
use crate::state_dict::StateDict;

/// Strides of the feature encoder's convolutions (fairseq's default
/// `[(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512, 2, 2)] * 2`): one frame per 320 samples.
const CONV_STRIDES: [usize; 7] = [5, 2, 2, 2, 2, 2, 2];
/// GroupNorm's epsilon (PyTorch's default, as fairseq's `Fp32GroupNorm`).
const GROUP_NORM_EPS: f64 = 1e-5;

/// One post-LN transformer layer.
struct EncoderLayer<B: Backend> {
    q: Dense<B>,
    k: Dense<B>,
    v: Dense<B>,
    out: Dense<B>,
    attention_norm: Norm<B>,
    fc1: Dense<B>,
    fc2: Dense<B>,
    final_norm: Norm<B>,
}

impl<B: Backend> EncoderLayer<B> {
    fn load(state: &StateDict, prefix: &str, device: &B::Device) -> Result<Self, MetricsError> {
        let dense = |name: &str| Dense::load(state, &format!("{prefix}.{name}"), device);
        Ok(Self {
            q: dense("self_attn.q_proj")?,
            k: dense("self_attn.k_proj")?,
            v: dense("self_attn.v_proj")?,
            out: dense("self_attn.out_proj")?,
            attention_norm: Norm::load(state, &format!("{prefix}.self_attn_layer_norm"), device)?,
            fc1: dense("fc1")?,
            fc2: dense("fc2")?,
            final_norm: Norm::load(state, &format!("{prefix}.final_layer_norm"), device)?,
        })
    }

    /// `x = LN(x + attention(x)); x = LN(x + fc2(gelu(fc1(x))))` on `[1, T, H]`.
    fn forward(&self, x: Tensor<B, 3>, heads: usize) -> Tensor<B, 3> {
        let x = self
            .attention_norm
            .forward(x.clone() + self.attention(x, heads));
        let ffn = self.fc2.forward(gelu(self.fc1.forward(x.clone())));
        self.final_norm.forward(x + ffn)
    }

    /// Multi-head self-attention with fairseq's `head_dim^-½` scaling, no mask.
    fn attention(&self, x: Tensor<B, 3>, heads: usize) -> Tensor<B, 3> {
        let [b, t, h] = x.dims();
        let split = |y: Tensor<B, 3>| y.reshape([b, t, heads, h / heads]).swap_dims(1, 2);
        let q = split(self.q.forward(x.clone())) * (1.0 / ((h / heads) as f64).sqrt());
        let k = split(self.k.forward(x.clone()));
        let v = split(self.v.forward(x));
        let weights = softmax(q.matmul(k.swap_dims(2, 3)), 3);
        let context = weights.matmul(v).swap_dims(1, 2).reshape([b, t, h]);
        self.out.forward(context)
    }
}

/// The wav2vec 2.0 encoder.
pub(crate) struct Wav2Vec2<B: Backend> {
    /// `[out, in, kernel]` per layer.
    convs: Vec<Tensor<B, 3>>,
    /// GroupNorm after the first conv: weight and bias per channel.
    first_norm: (Tensor<B, 1>, Tensor<B, 1>),
    feature_norm: Norm<B>,
    projection: Dense<B>,
    /// The weight-normed positional conv's effective weight `[H, H / groups, K]`, its bias,
    /// its groups.
    pos_conv: (Tensor<B, 3>, Tensor<B, 1>, usize),
    encoder_norm: Norm<B>,
    layers: Vec<EncoderLayer<B>>,
    heads: usize,
}

impl<B: Backend> Wav2Vec2<B> {
    /// The model under `prefix` (e.g. `feature_extractors.0.ssl_model.`) with `heads`
    /// attention heads (12 in the base model; the tensors do not record it).
    pub(crate) fn load(
        state: &StateDict,
        prefix: &str,
        heads: usize,
        device: &B::Device,
    ) -> Result<Self, MetricsError> {
        let key = |name: &str| format!("{prefix}{name}");
        let convs = (0..CONV_STRIDES.len())
            .map(|i| {
                state.tensor(
                    &key(&format!("feature_extractor.conv_layers.{i}.0.weight")),
                    device,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let first_norm = (
            state.tensor(&key("feature_extractor.conv_layers.0.2.weight"), device)?,
            state.tensor(&key("feature_extractor.conv_layers.0.2.bias"), device)?,
        );
        let layers = (0..)
            .map(|i| key(&format!("encoder.layers.{i}")))
            .take_while(|layer| state.contains(&format!("{layer}.fc1.weight")))
            .map(|layer| EncoderLayer::load(state, &layer, device))
            .collect::<Result<Vec<_>, _>>()?;
        if layers.is_empty() {
            return Err(state.error(format!(
                "no {prefix}encoder.layers.0: not a wav2vec 2.0 model"
            )));
        }
        let projection = Dense::load(state, &key("post_extract_proj"), device)?;
        if projection.outputs() % heads != 0 {
            return Err(state.error(format!(
                "width {} is not divisible into {heads} attention heads",
                projection.outputs()
            )));
        }
        Ok(Self {
            convs,
            first_norm,
            feature_norm: Norm::load(state, &key("layer_norm"), device)?,
            projection,
            pos_conv: positional_conv(state, &key("encoder.pos_conv.0"), device)?,
            encoder_norm: Norm::load(state, &key("encoder.layer_norm"), device)?,
            layers,
            heads,
        })
    }

    /// The last layer's features `[1, T, H]` of a 16 kHz waveform (`T = ⌊(L − 80) / 320⌋ + 1`
    /// frames for the base encoder, L ≥ 400).
    pub(crate) fn forward(&self, wave: Tensor<B, 1>) -> Tensor<B, 3> {
        let [len] = wave.dims();
        let mut x = wave.reshape([1, 1, len]);
        for (i, (weight, stride)) in self.convs.iter().zip(CONV_STRIDES).enumerate() {
            x = conv1d(
                x,
                weight.clone(),
                None,
                ConvOptions::new([stride], [0], [1], 1),
            );
            if i == 0 {
                x = per_channel_group_norm(x, &self.first_norm);
            }
            x = gelu(x);
        }
        let x = self
            .projection
            .forward(self.feature_norm.forward(x.swap_dims(1, 2)));
        let x = self.encoder_norm.forward(x.clone() + self.positions(x));
        self.layers
            .iter()
            .fold(x, |x, layer| layer.forward(x, self.heads))
    }

    /// The positional embedding of `[1, T, H]`: the grouped conv with "same" padding (one
    /// trailing frame dropped, the kernel being even), GELU.
    fn positions(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let (weight, bias, groups) = &self.pos_conv;
        let [_, t, _] = x.dims();
        let kernel = weight.dims()[2];
        let options = ConvOptions::new([1], [kernel / 2], [1], *groups);
        let y = conv1d(
            x.swap_dims(1, 2),
            weight.clone(),
            Some(bias.clone()),
            options,
        );
        gelu(y.narrow(2, 0, t)).swap_dims(1, 2)
    }

    /// The minimum input length in samples (the encoder's receptive field).
    pub(crate) fn min_samples(&self) -> usize {
        let kernels = self.convs.iter().map(|w| w.dims()[2]);
        kernels
            .zip(CONV_STRIDES)
            .rev()
            .fold(1, |need, (kernel, stride)| (need - 1) * stride + kernel)
    }
}

/// The effective weight of fairseq's `weight_norm(conv, dim=2)`: `g · v / ‖v‖` with the norm
/// over output and input channels for each kernel tap.
fn positional_conv<B: Backend>(
    state: &StateDict,
    prefix: &str,
    device: &B::Device,
) -> Result<(Tensor<B, 3>, Tensor<B, 1>, usize), MetricsError> {
    let g: Tensor<B, 3> = state.tensor(&format!("{prefix}.weight_g"), device)?;
    let v: Tensor<B, 3> = state.tensor(&format!("{prefix}.weight_v"), device)?;
    let bias: Tensor<B, 1> = state.tensor(&format!("{prefix}.bias"), device)?;
    let [channels, per_group, _] = v.dims();
    if per_group == 0 || channels % per_group != 0 {
        return Err(state.error(format!("{prefix}.weight_v has shape {:?}", v.dims())));
    }
    let norm = v.clone().powi_scalar(2).sum_dim(0).sum_dim(1).sqrt();
    Ok((v * (g / norm), bias, channels / per_group))
}

/// GroupNorm with one group per channel on `[1, C, T]`: each channel normalised over time.
fn per_channel_group_norm<B: Backend>(
    x: Tensor<B, 3>,
    (weight, bias): &(Tensor<B, 1>, Tensor<B, 1>),
) -> Tensor<B, 3> {
    let (var, mean) = x.clone().var_mean_bias(2);
    let normed = (x - mean) / (var + GROUP_NORM_EPS).sqrt();
    normed * weight.clone().reshape([1, -1, 1]) + bias.clone().reshape([1, -1, 1])
}
