//! Mono 16-bit WAV files.

use std::path::Path;

use crate::error::{Result, RunError};

/// Writes mono 16-bit PCM (samples clipped to `[-1, 1]`, `round(v · 32767)`).
pub fn write_wav(path: &Path, samples: &[f32], sample_rate: u32) -> Result<()> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let fail = |e: hound::Error| RunError::output(path, e);
    let mut writer = hound::WavWriter::create(path, spec).map_err(fail)?;
    for &v in samples {
        let q = (f64::from(v.clamp(-1.0, 1.0)) * 32_767.0).round() as i16;
        writer.write_sample(q).map_err(fail)?;
    }
    writer.finalize().map_err(fail)
}
