//! V/UV F1: how well a reconstruction keeps which 10-ms frames are voiced, as the reference's
//! `metrics/periodicity.py` (Vocos', after CARGAN) computes it at 16 kHz:
//!
//! * torchcrepe `predict(fmin 50, fmax 550, model "full", pad False, viterbi)`: frames of 1024
//!   samples every 160, each minus its mean and divided by its (unbiased) standard deviation;
//!   CREPE's sigmoid outputs with the bins outside 50–550 Hz set to −∞, a softmax over bins,
//!   librosa's Viterbi path (transitions within ±11 bins, uniform start); the periodicity of a
//!   frame is the sigmoid output at its path bin;
//! * silence: a frame whose A-weighted power spectrum (Hann 1024, hop 160, no centring;
//!   `librosa.perceptual_weighting`, i.e. `power_to_db` with its 80-dB floor below the loudest
//!   bin of the utterance) minus 20 dB averages under −60 dB has periodicity 0;
//! * voiced = periodicity ≥ 0.21; F1 of the reconstruction's voiced frames against the
//!   original's, per utterance (undefined, `None`, when neither has a voiced frame).

use burn::tensor::{backend::Backend, Tensor, TensorData};
use realfft::RealFftPlanner;

use crate::crepe::{Crepe, CREPE_WINDOW, PITCH_BINS};
use crate::error::MetricsError;
use crate::sinc_resample::sinc_resample;

/// The sample rate CREPE runs at.
pub const CREPE_RATE: u32 = 16_000;
/// 10 ms at 16 kHz.
const HOP: usize = 160;
/// Below this periodicity a frame is unvoiced.
const UNVOICED_THRESHOLD: f32 = 0.21;
/// A-weighted mean power (dB) below which a frame is silence.
const SILENCE_THRESHOLD: f64 = -60.0;
/// torchcrepe's reference level subtracted from the weighted dB.
const REF_DB: f64 = 20.0;
/// Viterbi transitions reach this many bins up or down (exclusive).
const TRANSITION_WIDTH: usize = 12;

/// Number of frames of `samples` samples without padding (0 when shorter than a window).
pub fn frame_count(samples: usize) -> usize {
    if samples < CREPE_WINDOW {
        0
    } else {
        1 + (samples - CREPE_WINDOW) / HOP
    }
}

/// torchcrepe's normalised frames `[N, 1024]`, row-major.
pub fn crepe_frames(audio: &[f32]) -> Vec<f32> {
    let n = frame_count(audio.len());
    let mut frames = Vec::with_capacity(n * CREPE_WINDOW);
    for t in 0..n {
        let frame = &audio[t * HOP..t * HOP + CREPE_WINDOW];
        let mean = frame.iter().map(|&x| f64::from(x)).sum::<f64>() / CREPE_WINDOW as f64;
        let var = frame
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / (CREPE_WINDOW - 1) as f64;
        let std = var.sqrt().max(1e-10);
        frames.extend(frame.iter().map(|&x| ((f64::from(x) - mean) / std) as f32));
    }
    frames
}

/// The pitch bin of `hz` (torchcrepe's `frequency_to_bins`), floored or ceiled.
fn frequency_bin(hz: f64, ceil: bool) -> usize {
    let bins = (1200.0 * (hz / 10.0).log2() - 1_997.379_408_437_619) / 20.0;
    (if ceil { bins.ceil() } else { bins.floor() }) as usize
}

/// librosa's Viterbi path through per-frame state probabilities `[T][360]` with torchcrepe's
/// transition matrix (`max(12 − |i − j|, 0)`, rows normalised) and a uniform start.
pub fn viterbi_path(probabilities: &[Vec<f32>]) -> Vec<usize> {
    let steps = probabilities.len();
    if steps == 0 {
        return Vec::new();
    }
    let states = PITCH_BINS;
    // librosa adds the smallest normal float of the input's type before taking logs.
    let tiny = f64::from(f32::MIN_POSITIVE);
    let log_trans: Vec<f64> = (0..states * states)
        .map(|k| {
            let (i, j) = (k / states, k % states);
            let row_sum: usize = (0..states)
                .map(|m| TRANSITION_WIDTH.saturating_sub(i.abs_diff(m)))
                .sum();
            let p = TRANSITION_WIDTH.saturating_sub(i.abs_diff(j)) as f64 / row_sum as f64;
            (p + tiny).ln()
        })
        .collect();
    let log_prob = |t: usize, s: usize| f64::from((probabilities[t][s] + f32::MIN_POSITIVE).ln());
    let log_init = (1.0 / states as f64 + tiny).ln();
    let mut value: Vec<f64> = (0..states).map(|s| log_prob(0, s) + log_init).collect();
    let mut pointers = vec![0u16; steps * states];
    for t in 1..steps {
        let mut next = vec![0.0; states];
        for j in 0..states {
            // First maximum, as np.argmax.
            let (mut best, mut best_k) = (f64::NEG_INFINITY, 0);
            for k in 0..states {
                let v = value[k] + log_trans[k * states + j];
                if v > best {
                    (best, best_k) = (v, k);
                }
            }
            pointers[t * states + j] = best_k as u16;
            next[j] = log_prob(t, j) + best;
        }
        value = next;
    }
    let mut path = vec![0usize; steps];
    path[steps - 1] = value
        .iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |(bi, bv), (i, &v)| {
            if v > bv {
                (i, v)
            } else {
                (bi, bv)
            }
        })
        .0;
    for t in (0..steps - 1).rev() {
        path[t] = pointers[(t + 1) * states + path[t + 1]] as usize;
    }
    path
}

/// torchcrepe's postprocessing of sigmoid outputs `[T][360]` for 50–550 Hz: the Viterbi bins
/// and the periodicity (the output at each frame's bin).
pub fn decode_periodicity(outputs: &[Vec<f32>]) -> (Vec<usize>, Vec<f32>) {
    let (low, high) = (frequency_bin(50.0, false), frequency_bin(550.0, true));
    let softmax: Vec<Vec<f32>> = outputs
        .iter()
        .map(|row| {
            let max = row[low..high]
                .iter()
                .fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let exps: Vec<f32> = (0..PITCH_BINS)
                .map(|s| {
                    if (low..high).contains(&s) {
                        (row[s] - max).exp()
                    } else {
                        0.0
                    }
                })
                .collect();
            let sum: f32 = exps.iter().sum();
            exps.into_iter().map(|e| e / sum).collect()
        })
        .collect();
    let bins = viterbi_path(&softmax);
    let periodicity = bins.iter().zip(outputs).map(|(&b, row)| row[b]).collect();
    (bins, periodicity)
}

/// librosa's A-weighting (dB, floored at −80) of the 513 bins of a 1024-point FFT at 16 kHz.
fn a_weighting(bin: usize) -> f64 {
    let f = bin as f64 * f64::from(CREPE_RATE) / CREPE_WINDOW as f64;
    let f_sq = f * f;
    let c = [12_194.217f64, 20.598_997, 107.652_65, 737.862_23].map(|v| v * v);
    let weight = 2.0
        + 20.0
            * (c[0].log10() + 2.0 * f_sq.log10()
                - (f_sq + c[0]).log10()
                - (f_sq + c[1]).log10()
                - 0.5 * (f_sq + c[2]).log10()
                - 0.5 * (f_sq + c[3]).log10());
    weight.max(-80.0)
}

/// The frames whose A-weighted power is silence, as the reference decides it.
pub fn silent_frames(audio: &[f32]) -> Vec<bool> {
    let n = frame_count(audio.len());
    let bins = CREPE_WINDOW / 2 + 1;
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(CREPE_WINDOW);
    // torch.hann_window: periodic.
    let window: Vec<f32> = (0..CREPE_WINDOW)
        .map(|i| {
            let phase = 2.0 * std::f64::consts::PI * i as f64 / CREPE_WINDOW as f64;
            (0.5 - 0.5 * phase.cos()) as f32
        })
        .collect();
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    // power_to_db in the input's f32, floored at 1e-10 and at 80 dB below the loudest bin.
    let mut db = Vec::with_capacity(n * bins);
    for t in 0..n {
        for (i, x) in input.iter_mut().enumerate() {
            *x = audio[t * HOP + i] * window[i];
        }
        fft.process(&mut input, &mut spectrum)
            .expect("FFT sizes match");
        db.extend(
            spectrum
                .iter()
                .map(|c| 10.0 * c.norm_sqr().max(1e-10).log10()),
        );
    }
    let floor = db.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) - 80.0;
    (0..n)
        .map(|t| {
            let mean = (0..bins)
                .map(|k| a_weighting(k) + f64::from(db[t * bins + k].max(floor)) - REF_DB)
                .sum::<f64>()
                / bins as f64;
            mean < SILENCE_THRESHOLD
        })
        .collect()
}

/// Voiced flags of 16-kHz audio: periodicity ≥ 0.21 outside silence.
pub fn voiced_frames<B: Backend>(
    crepe: &Crepe<B>,
    audio: &[f32],
    device: &B::Device,
) -> Result<Vec<bool>, MetricsError> {
    let n = frame_count(audio.len());
    if n == 0 {
        return Err(MetricsError::TooShort {
            metric: "V/UV F1",
            needed: CREPE_WINDOW,
            samples: audio.len(),
        });
    }
    let frames = Tensor::<B, 2>::from_data(
        TensorData::new(crepe_frames(audio), [n, CREPE_WINDOW]),
        device,
    );
    let outputs: Vec<f32> = crepe
        .forward(frames)
        .into_data()
        .convert::<f32>()
        .to_vec()
        .expect("f32 data");
    let rows: Vec<Vec<f32>> = outputs.chunks(PITCH_BINS).map(<[f32]>::to_vec).collect();
    let (_, periodicity) = decode_periodicity(&rows);
    let silent = silent_frames(audio);
    Ok(periodicity
        .iter()
        .zip(silent)
        .map(|(&p, silent)| !silent && p >= UNVOICED_THRESHOLD)
        .collect())
}

/// F1 of `test`'s voiced frames against `reference`'s (the shorter length counts). `None` when
/// no frame is voiced in both: the reference's numpy F1 is then NaN (0/0 in precision, recall or
/// their harmonic mean) and its average skips the utterance.
pub fn vuv_f1(reference: &[bool], test: &[bool]) -> Option<f64> {
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    for (&r, &t) in reference.iter().zip(test) {
        match (r, t) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            (false, false) => {}
        }
    }
    if tp == 0 {
        return None;
    }
    let precision = tp as f64 / (tp + fp) as f64;
    let recall = tp as f64 / (tp + fn_) as f64;
    Some(2.0 * precision * recall / (precision + recall))
}

/// V/UV F1 of a reconstruction against its original, both at `sample_rate` and of the same
/// length: resampled to 16 kHz (torchaudio's sinc resampler, as the reference), voiced frames of
/// each, their F1 (`None` when undefined; see [`vuv_f1`]).
pub fn vuv_f1_at_rate<B: Backend>(
    crepe: &Crepe<B>,
    reference: &[f32],
    test: &[f32],
    sample_rate: u32,
    device: &B::Device,
) -> Result<Option<f64>, MetricsError> {
    if reference.len() != test.len() {
        return Err(MetricsError::LengthMismatch {
            clean: reference.len(),
            processed: test.len(),
        });
    }
    let at_16k = |x: &[f32]| sinc_resample(x, sample_rate, CREPE_RATE);
    let reference = voiced_frames(crepe, &at_16k(reference)?, device)?;
    let test = voiced_frames(crepe, &at_16k(test)?, device)?;
    Ok(vuv_f1(&reference, &test))
}
