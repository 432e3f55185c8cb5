//! Wide-band PESQ (ITU-T P.862.2 MOS-LQO) as the reference evaluates it: both signals at
//! 16 kHz (resampled with torchaudio's sinc resampler, as the reference, when they are not),
//! as 16-bit PCM,
//! scored by the `pesq` crate (a pure-Rust P.862/P.862.2 implementation; its agreement with
//! the `pesq` Python package the reference uses is tested here).

use crate::error::MetricsError;
use crate::sinc_resample::sinc_resample;

/// The rate P.862.2 is defined at.
pub const PESQ_RATE: u32 = 16_000;

/// P.862.2 MOS-LQO of `degraded` against `reference` (same length, samples in `[-1, 1]`) at
/// `sample_rate`: resampled to 16 kHz, both divided by their joint peak as the `pesq` package
/// does before its C code, rounded to 16-bit PCM at full scale (the crate takes PCM), scored.
pub fn pesq_wb(reference: &[f32], degraded: &[f32], sample_rate: u32) -> Result<f64, MetricsError> {
    if reference.len() != degraded.len() {
        return Err(MetricsError::LengthMismatch {
            clean: reference.len(),
            processed: degraded.len(),
        });
    }
    let at_16k = |x: &[f32]| -> Result<Vec<f32>, MetricsError> {
        if sample_rate == PESQ_RATE {
            Ok(x.to_vec())
        } else {
            sinc_resample(x, sample_rate, PESQ_RATE)
        }
    };
    let (reference, degraded) = (at_16k(reference)?, at_16k(degraded)?);
    let gain = full_scale_gain(&reference, &degraded);
    pesq_wb_pcm(&to_pcm(&reference, gain), &to_pcm(&degraded, gain))
}

/// P.862.2 MOS-LQO of 16 kHz 16-bit PCM.
pub fn pesq_wb_pcm(reference: &[i16], degraded: &[i16]) -> Result<f64, MetricsError> {
    // The pesq crate (0.2) panics with an integer overflow in its time alignment on some
    // pairs (seen on a reconstruction that is nearly one tone): that pair is reported as
    // unscorable instead of ending the whole evaluation.
    std::panic::catch_unwind(|| pesq::pesq_wb(reference, degraded))
        .map_err(|_| {
            MetricsError::Pesq(
                "the pesq crate failed inside its time alignment on this pair".into(),
            )
        })?
        .map(f64::from)
        .map_err(|e| MetricsError::Pesq(e.to_string()))
}

/// The factor that puts the louder signal's peak at full 16-bit scale. The package divides
/// both by their joint peak and scores floats; rounding quiet speech to PCM without it adds
/// quantisation noise that moved a score by 0.003 (with it: 1e-4).
fn full_scale_gain(reference: &[f32], degraded: &[f32]) -> f64 {
    let peak = reference
        .iter()
        .chain(degraded)
        .fold(0.0f64, |m, &v| m.max(f64::from(v).abs()));
    if peak > 0.0 {
        32_767.0 / peak
    } else {
        32_768.0
    }
}

/// Floats → 16-bit PCM (`round(v · gain)`, clipped).
fn to_pcm(x: &[f32], gain: f64) -> Vec<i16> {
    x.iter()
        .map(|&v| (f64::from(v) * gain).round().clamp(-32_768.0, 32_767.0) as i16)
        .collect()
}
