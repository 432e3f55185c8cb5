//! Reading audio files: WAV (8/16/24/32-bit integer and float), FLAC, OGG/Vorbis and MP3 with
//! `symphonia`, mixed down to mono (the channel mean, as `librosa.load(mono=True)`), then
//! resampled to the rate the model wants.

use std::fs::File;
use std::path::Path;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::error::{DataError, Result};
use crate::resample::resample;

/// A decoded mono signal.
#[derive(Debug, Clone, PartialEq)]
pub struct MonoAudio {
    /// Samples in `[-1, 1]` (integer formats scaled by their full range, as soundfile does).
    pub samples: Vec<f32>,
    /// Samples per second.
    pub sample_rate: u32,
}

/// Decodes `path` to mono. Unreadable, empty and truncated files (fewer frames than the
/// header announces) are [`DataError::Unreadable`] naming the file.
pub fn decode_audio(path: &Path) -> Result<MonoAudio> {
    let unreadable = |reason: String| DataError::Unreadable {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(extension) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(extension);
    }
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            stream,
            // Gapless: trim the encoder's padding (Vorbis, MP3) as libsndfile does.
            &FormatOptions {
                enable_gapless: true,
                ..FormatOptions::default()
            },
            &MetadataOptions::default(),
        )
        .map_err(|e| unreadable(format!("not a readable audio file ({e})")))?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| unreadable("no audio track".into()))?;
    let track_id = track.id;
    let announced = track.codec_params.n_frames;
    let mut sample_rate = track.codec_params.sample_rate;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| unreadable(format!("unsupported codec ({e})")))?;

    let mut samples = Vec::new();
    let mut frames = 0u64;
    let mut interleaved: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break
            }
            Err(e) => return Err(unreadable(e.to_string())),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = decoder
            .decode(&packet)
            .map_err(|e| unreadable(e.to_string()))?;
        let spec = *decoded.spec();
        sample_rate = Some(spec.rate);
        let channels = spec.channels.count();
        let buffer = match &mut interleaved {
            Some(buffer) if buffer.capacity() >= decoded.capacity() * channels => buffer,
            slot => slot.insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
        };
        buffer.copy_interleaved_ref(decoded);
        let values = buffer.samples();
        frames += (values.len() / channels) as u64;
        samples.extend(
            values
                .chunks_exact(channels)
                .map(|frame| frame.iter().sum::<f32>() / channels as f32),
        );
    }
    if let Some(announced) = announced {
        if frames < announced {
            return Err(unreadable(format!(
                "truncated: {frames} of the {announced} frames its header announces"
            )));
        }
        // symphonia 0.5's Ogg reader announces the stream's length (the last granule
        // position) but decodes the final block's padding too: cut it, as libsndfile does.
        samples.truncate(announced as usize);
    }
    if samples.is_empty() {
        return Err(unreadable("no audio samples".into()));
    }
    let sample_rate = sample_rate.ok_or_else(|| unreadable("no sample rate".into()))?;
    Ok(MonoAudio {
        samples,
        sample_rate,
    })
}

/// [`decode_audio`], resampled to `sample_rate` when the file has another rate.
pub fn load_audio(path: &Path, sample_rate: u32) -> Result<Vec<f32>> {
    let audio = decode_audio(path)?;
    if audio.sample_rate == sample_rate {
        return Ok(audio.samples);
    }
    resample(&audio.samples, audio.sample_rate, sample_rate).map_err(|reason| {
        DataError::Unreadable {
            path: path.to_path_buf(),
            reason,
        }
    })
}
