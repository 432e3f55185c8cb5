//! `cargo xtask reproduce audio`: Table 2's trained codecs under one budget. SimVQ at several
//! codebook sizes and the quantizers it is compared with (a plain learned VQ, as in
//! WavTokenizer's codec; its factorized l2 variant; FSQ; LFQ) in the same codec on the same
//! speech, evaluated on speakers it never heard. Table 2's other rows (Encodec, Vocos,
//! SpeechTokenizer) are released models with their own architectures, not quantizers to
//! swap into one codec.

use std::path::PathBuf;

use anyhow::{bail, Result};
use simvq_data::demo_speech_dir;
use simvq_train::{
    load_config, train_audio, AudioEvalReport, AudioRunReport, AudioTrainConfig, RunOptions,
};

use crate::backend::{dispatch, BackendKind};
use crate::reproduce::{
    comparison_schedule, configs_dir, ema_words, run, Comparison, ReproduceArgs, Scale,
};
use crate::reproduce_methods::{Method, Modality};
use crate::train::audio_sources;

/// Steps of every method at CPU scale: the audio demo's budget (240 steps) less a sixth, so
/// that eight methods train in about half an hour on two cores.
const CPU_STEPS: usize = 200;

/// Runs `reproduce audio`.
pub fn audio(args: &ReproduceArgs) -> Result<()> {
    let root = match (&args.data, args.scale) {
        (Some(root), _) => root.clone(),
        (None, Scale::Cpu) => demo_speech_dir(),
        (None, Scale::Paper) => bail!(
            "--scale paper trains on LibriTTS: pass --data with its root (train.txt and \
             dev.txt, or train/ and val/)"
        ),
    };
    let (train, val) = audio_sources(&root);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs/reproduce_audio"));
    let comparison = AudioComparison {
        base: base_config(args)?,
        val: val.clone(),
        backend: args.backend,
    };
    run(args, &comparison, (&train, &val), &out)
}

/// The codecs of one comparison.
struct AudioComparison {
    /// The SimVQ run every method is derived from.
    base: AudioTrainConfig,
    val: PathBuf,
    backend: BackendKind,
}

impl Comparison for AudioComparison {
    type Eval = AudioEvalReport;
    const MODALITY: Modality = Modality::Audio;
    const RECONSTRUCTION: (&'static str, &'static str) = ("mel", "log-mel L1 loss");

    fn steps(&self) -> usize {
        self.base.schedule.steps
    }

    fn train(&self, method: Method, k: usize, options: &RunOptions) -> Result<AudioRunReport> {
        let config = method.audio_config(&self.base, k)?;
        dispatch!(self.backend, |B, device| {
            train_audio::<B>(&config, options, &device).map_err(anyhow::Error::from)
        })
    }

    fn protocol(&self, examples: usize) -> String {
        let base = &self.base;
        format!(
            "every method: the same codec (latent width {}, {:.0} tokens/s), data, optimizer \
             (lr {}), seed and {} steps of batch {} crops of {} s; {examples} whole utterances \
             of the validation split {} (speakers never trained on) evaluated one at a time, \
             reconstructions clipped to ±0.99 and rounded to 16-bit PCM; utilization = codes \
             used over all evaluated tokens ÷ K; STOI (classic) at the codec's rate; wide-band \
             PESQ at 16 kHz over the utterances it could score; log-mel L1 of the training \
             loss's mel; {}. UTMOS and V/UV F1 need their weight files and are not computed \
             here",
            base.model.quantizer.dim,
            base.model.frame_rate(),
            base.optimizer.learning_rate,
            base.schedule.steps,
            base.data.batch_size,
            base.data.clip_seconds,
            self.val.display(),
            ema_words(base.schedule.ema_decay),
        )
    }
}

/// The scale's SimVQ codec with the arguments' steps.
fn base_config(args: &ReproduceArgs) -> Result<AudioTrainConfig> {
    let mut config = match args.scale {
        Scale::Cpu => {
            let mut demo = AudioTrainConfig::demo();
            demo.schedule.steps = CPU_STEPS;
            demo
        }
        Scale::Paper => load_config(
            &configs_dir().join("libritts_24khz.toml"),
            &AudioTrainConfig::reference(4_096),
        )?,
    };
    if let Some(path) = &args.config {
        config = load_config(path, &config)?;
    }
    comparison_schedule(&mut config.schedule, args.steps, args.eval_examples)?;
    Ok(config)
}
