//! Sample-rate conversion with `rubato`'s FFT resampler (synchronous ratios, which every pair
//! of audio rates is): band-limited, and fast enough to run per file in the data loader.
//!
//! The reference loads with `librosa.load(sr=24000)` (soxr "HQ"); LibriTTS is 24 kHz already,
//! so it only resamples odd files. The two resamplers differ by their filters, not in kind.

use rubato::{FftFixedIn, Resampler};

/// Input frames per FFT chunk.
const CHUNK: usize = 1024;

/// `samples` at `from` Hz → at `to` Hz, `ceil(len · to / from)` samples, aligned (the
/// resampler's delay removed). Errors are the resampler's, as text.
pub fn resample(samples: &[f32], from: u32, to: u32) -> std::result::Result<Vec<f32>, String> {
    if from == to {
        return Ok(samples.to_vec());
    }
    if from == 0 || to == 0 {
        return Err(format!("cannot resample from {from} Hz to {to} Hz"));
    }
    let mut resampler = FftFixedIn::<f32>::new(from as usize, to as usize, CHUNK, 2, 1)
        .map_err(|e| e.to_string())?;
    let wanted = (samples.len() as u64 * u64::from(to)).div_ceil(u64::from(from)) as usize;
    let delay = resampler.output_delay();
    let mut out = Vec::with_capacity(wanted + delay + CHUNK);
    let mut position = 0;
    while position + resampler.input_frames_next() <= samples.len() {
        let next = position + resampler.input_frames_next();
        let chunk = resampler
            .process(&[&samples[position..next]], None)
            .map_err(|e| e.to_string())?;
        out.extend_from_slice(&chunk[0]);
        position = next;
    }
    let rest = resampler
        .process_partial(Some(&[&samples[position..]]), None)
        .map_err(|e| e.to_string())?;
    out.extend_from_slice(&rest[0]);
    while out.len() < delay + wanted {
        let tail = resampler
            .process_partial::<&[f32]>(None, None)
            .map_err(|e| e.to_string())?;
        out.extend_from_slice(&tail[0]);
    }
    out.truncate(delay + wanted);
    Ok(out.split_off(delay))
}
