//! How long a run lasts and what it does along the way (logging, checkpoints, the NaN policy,
//! codebook initialisation and refits, the final evaluation): shared by the image and audio
//! trainers.

use serde::{Deserialize, Serialize};

/// What to do when a loss is NaN or infinite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NonFinitePolicy {
    /// Stop with an error naming the step; the last checkpoint stays as it was.
    Stop,
    /// Skip the update for this batch and go on (the skip is counted and logged).
    Skip,
}

/// Where SimVQ's projection `W`, `b` starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodebookInit {
    /// PyTorch's `nn.Linear` default, as the reference initialises it.
    #[default]
    Random,
    /// Fitted to the mean and covariance of the fresh encoder's latents on the first training
    /// batches (`SimVq::fit_to_latents`): the codes start where the data is, so a small or
    /// short run does not begin with every token on one code.
    Data,
}

/// How the encoder's layers start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncoderInit {
    /// PyTorch's defaults, as the reference initialises it.
    #[default]
    Random,
    /// Each weight-normalised conv of the audio encoder standardised on the first training
    /// clips (data-dependent init, `SeanetEncoder::init_from_data`), so a fresh encoder's
    /// frames follow the audio instead of sitting on a constant. Audio codec only: the image
    /// encoder normalises its activations (GroupNorm) already.
    Data,
}

fn full_refit() -> f64 {
    1.0
}

/// Length of the run, logging, checkpoints and the final evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleSettings {
    /// Generator steps in total (the reference: 50 epochs × 5,005 = 250,250).
    pub steps: usize,
    /// EMA decay of the weights used for evaluation and export.
    pub ema_decay: f64,
    /// Steps between log lines (loss averages, codebook utilization).
    pub log_every: usize,
    /// Steps between checkpoints (one is always written at the end).
    pub checkpoint_every: usize,
    /// Checkpoints kept on disk.
    pub keep_checkpoints: usize,
    /// NaN/inf losses: stop or skip.
    pub on_non_finite: NonFinitePolicy,
    /// How the encoder is initialised (`random`, the reference; or `data`, audio only).
    #[serde(default)]
    pub encoder_init: EncoderInit,
    /// How the codebook projection is initialised (`random`, the reference; or `data`).
    #[serde(default)]
    pub codebook_init: CodebookInit,
    /// With `codebook_init = "data"`: refit `W` and `b` to each batch's latents during the
    /// first this many steps, so the codes follow an encoder whose outputs still move faster
    /// than gradient steps can move the codebook (0: fit once, before the first step).
    #[serde(default)]
    pub codebook_refit_steps: usize,
    /// How far each refit moves `W` and `b` towards the batch's fit (1: all the way).
    #[serde(default = "full_refit")]
    pub codebook_refit_rate: f64,
    /// Validation examples (images, utterances) reconstructed with the EMA weights for the
    /// final metrics; 0 = all.
    pub eval_examples: usize,
    /// Examples shown after the run: images in the PNG grid of originals above
    /// reconstructions; utterances saved as WAV pairs and drawn as mel spectrograms.
    pub saved_examples: usize,
}
