//! Wide-band PESQ (ITU-T P.862.2 MOS-LQO) as the reference evaluates it: both signals at
//! 16 kHz (resampled with the data crate's resampler when they are not), as 16-bit PCM,
//! scored by the `pesq` crate (a pure-Rust P.862/P.862.2 implementation; its agreement with
//! the `pesq` Python package the reference uses is tested here).

use simvq_data::resample;

use crate::error::MetricsError;

/// The rate P.862.2 is defined at.
pub const PESQ_RATE: u32 = 16_000;

/// P.862.2 MOS-LQO of `degraded` against `reference` (same length, samples in `[-1, 1]`) at
/// `sample_rate`: resampled to 16 kHz, rounded to 16-bit PCM (as the reference's WAV files
/// are), scored.
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
            resample(x, sample_rate, PESQ_RATE).map_err(MetricsError::Resample)
        }
    };
    let (reference, degraded) = (at_16k(reference)?, at_16k(degraded)?);
    pesq_wb_pcm(&to_pcm(&reference), &to_pcm(&degraded))
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

/// `[-1, 1]` floats → 16-bit PCM (`round(v · 32768)`, clipped).
fn to_pcm(x: &[f32]) -> Vec<i16> {
    x.iter()
        .map(|&v| (f64::from(v) * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16)
        .collect()
}
