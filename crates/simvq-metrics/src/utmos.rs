//! UTMOS, the Table 2 naturalness column: the UTMOS22 strong learner as the reference's
//! `metrics/UTMOS.py` runs it (the UTMOS demo's `BaselineLightningModule`): wav2vec 2.0
//! features, a domain embedding (domain 0) and a listener embedding (judge 288) concatenated
//! per frame, a bidirectional LSTM, a two-layer projection to one score per frame;
//! `UTMOS = 2 · mean over frames + 3`, on 16 kHz audio.
//!
//! Loaded from the demo's `epoch=3-step=7459.ckpt` alone: it holds the fine-tuned wav2vec 2.0
//! weights too (`wav2vec_small.pt` only gives the reference the architecture to load them into).

use std::path::Path;

use burn::tensor::activation::{relu, sigmoid, tanh};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

use crate::error::MetricsError;
use crate::plain_layers::Dense;
use crate::sinc_resample::sinc_resample;
use crate::state_dict::StateDict;
use crate::wav2vec2::Wav2Vec2;

/// Where the checkpoint comes from, for every error.
pub const UTMOS_WEIGHTS_HELP: &str = "UTMOS needs the UTMOS22 strong learner's checkpoint \
     `epoch=3-step=7459.ckpt` from https://huggingface.co/spaces/sarulab-speech/UTMOS-demo \
     (the file the reference's metrics/UTMOS.py downloads)";
/// The rate UTMOS runs at.
pub const UTMOS_RATE: u32 = 16_000;
/// The reference's conditioning: domain 0 (the VoiceMOS main track), listener 288.
const DOMAIN: usize = 0;
const JUDGE: usize = 288;
/// Attention heads of wav2vec 2.0 base (the tensors do not record it).
const HEADS: usize = 12;

/// One direction of PyTorch's LSTM (gates stacked `[i; f; g; o]`).
struct LstmDirection<B: Backend> {
    input: Dense<B>,
    /// `W_hhᵀ`, `[H, 4H]`, and `b_hh`.
    hidden: (Tensor<B, 2>, Tensor<B, 1>),
}

impl<B: Backend> LstmDirection<B> {
    fn load(
        state: &StateDict,
        prefix: &str,
        suffix: &str,
        device: &B::Device,
    ) -> Result<Self, MetricsError> {
        let tensor2 =
            |name: &str| state.tensor::<B, 2>(&format!("{prefix}.{name}{suffix}"), device);
        let tensor1 =
            |name: &str| state.tensor::<B, 1>(&format!("{prefix}.{name}{suffix}"), device);
        Ok(Self {
            input: Dense::from_parts(tensor2("weight_ih_l0")?, tensor1("bias_ih_l0")?),
            hidden: (tensor2("weight_hh_l0")?.transpose(), tensor1("bias_hh_l0")?),
        })
    }

    /// Hidden states `[T, H]` over `x` `[1, T, in]`, in time order (run backwards when
    /// `reverse`).
    fn forward(&self, x: Tensor<B, 3>, reverse: bool) -> Tensor<B, 2> {
        let [_, t, _] = x.dims();
        let (w_hh, b_hh) = &self.hidden;
        let width = w_hh.dims()[0];
        let inputs = self.input.forward(x).reshape([t, 4 * width]) + b_hh.clone().unsqueeze();
        let device = inputs.device();
        let mut h = Tensor::<B, 2>::zeros([1, width], &device);
        let mut c = Tensor::<B, 2>::zeros([1, width], &device);
        let mut states = vec![None; t];
        let order: Box<dyn Iterator<Item = usize>> = if reverse {
            Box::new((0..t).rev())
        } else {
            Box::new(0..t)
        };
        for step in order {
            let gates = inputs.clone().narrow(0, step, 1) + h.matmul(w_hh.clone());
            let gate = |k: usize| gates.clone().narrow(1, k * width, width);
            c = sigmoid(gate(1)) * c + sigmoid(gate(0)) * tanh(gate(2));
            h = sigmoid(gate(3)) * tanh(c.clone());
            states[step] = Some(h.clone());
        }
        Tensor::cat(states.into_iter().flatten().collect(), 0)
    }
}

/// The UTMOS22 strong learner.
pub struct Utmos<B: Backend> {
    ssl: Wav2Vec2<B>,
    /// The domain and listener embeddings of the reference's conditioning, `[1, 2E]`.
    condition: Tensor<B, 2>,
    forward_lstm: LstmDirection<B>,
    reverse_lstm: LstmDirection<B>,
    hidden: Dense<B>,
    output: Dense<B>,
}

impl<B: Backend> Utmos<B> {
    /// Loads the demo's checkpoint (a Lightning checkpoint or its bare `state_dict`).
    pub fn load(path: &Path, device: &B::Device) -> Result<Self, MetricsError> {
        let state = StateDict::read(path, UTMOS_WEIGHTS_HELP)?;
        let ssl = Wav2Vec2::load(&state, "feature_extractors.0.ssl_model.", HEADS, device)?;
        let row = |key: &str, index: usize| -> Result<Tensor<B, 2>, MetricsError> {
            let table: Tensor<B, 2> = state.tensor(key, device)?;
            if index >= table.dims()[0] {
                return Err(state.error(format!("{key} has no row {index}")));
            }
            Ok(table.narrow(0, index, 1))
        };
        let condition = Tensor::cat(
            vec![
                row("feature_extractors.1.embedding.weight", DOMAIN)?,
                row("output_layers.0.judge_embedding.weight", JUDGE)?,
            ],
            1,
        );
        let rnn = "output_layers.0.decoder_rnn";
        Ok(Self {
            ssl,
            condition,
            forward_lstm: LstmDirection::load(&state, rnn, "", device)?,
            reverse_lstm: LstmDirection::load(&state, rnn, "_reverse", device)?,
            hidden: Dense::load(&state, "output_layers.1.net.0", device)?,
            output: Dense::load(&state, "output_layers.1.net.3", device)?,
        })
    }

    /// The per-frame scores (before `2 · x + 3`) of a 16 kHz waveform.
    pub fn frame_scores(&self, wave: &[f32], device: &B::Device) -> Result<Vec<f32>, MetricsError> {
        let need = self.ssl.min_samples();
        if wave.len() < need {
            return Err(MetricsError::TooShort {
                metric: "UTMOS",
                samples: wave.len(),
                needed: need,
            });
        }
        let wave = Tensor::<B, 1>::from_data(TensorData::new(wave.to_vec(), [wave.len()]), device);
        let features = self.ssl.forward(wave);
        let [_, t, _] = features.dims();
        let condition = self.condition.clone().unsqueeze::<3>().repeat_dim(1, t);
        let x = Tensor::cat(vec![features, condition], 2);
        let both = Tensor::cat(
            vec![
                self.forward_lstm.forward(x.clone(), false),
                self.reverse_lstm.forward(x, true),
            ],
            1,
        );
        let scores = self
            .output
            .forward(relu(self.hidden.forward(both.unsqueeze())));
        Ok(scores
            .into_data()
            .convert::<f32>()
            .to_vec()
            .expect("f32 scores"))
    }

    /// UTMOS of a 16 kHz waveform: `2 · mean + 3`.
    pub fn score(&self, wave: &[f32], device: &B::Device) -> Result<f64, MetricsError> {
        let frames = self.frame_scores(wave, device)?;
        let mean = frames.iter().map(|&v| f64::from(v)).sum::<f64>() / frames.len() as f64;
        Ok(2.0 * mean + 3.0)
    }

    /// UTMOS of a waveform at `sample_rate`, resampled to 16 kHz with torchaudio's resampler
    /// as the reference does.
    pub fn score_at_rate(
        &self,
        wave: &[f32],
        sample_rate: u32,
        device: &B::Device,
    ) -> Result<f64, MetricsError> {
        self.score(&sinc_resample(wave, sample_rate, UTMOS_RATE)?, device)
    }
}
