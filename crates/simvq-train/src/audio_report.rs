//! Evaluating an audio codec on whole utterances (codebook utilization, log-mel distance,
//! STOI, wide-band PESQ),
//! and what people listen to and look at: WAV files of originals and reconstructions side by
//! side, and a PNG of their mel spectrograms.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::{backend::Backend, ElementConversion, Tensor, TensorData};
use image::{Rgb, RgbImage};
use serde::{Deserialize, Serialize};
use simvq_audio::{AudioCodec, MelSpectrogram};
use simvq_data::AudioLoader;
use simvq_metrics::{pesq_wb, stoi, vuv_f1_at_rate, Crepe, MetricsError, Utmos};
use simvq_quant::{CodebookUsage, Quantizer};
use simvq_run::{write_wav, RunError};

use crate::error::{Result, TrainError};

/// Reconstruction quality and codebook use over an evaluation set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioEvalReport {
    /// Utterances evaluated.
    pub utterances: usize,
    /// Their total duration.
    pub seconds: f64,
    /// Codes used at least once over the whole set ÷ K.
    pub utilization: f64,
    /// Perplexity of the code histogram.
    pub perplexity: f64,
    /// Mean log-mel L1 distance (the training loss's mel, per utterance, averaged).
    pub mel_l1: f64,
    /// Mean STOI (classic, at the codec's rate, as the reference evaluates it).
    pub stoi: f64,
    /// Mean wide-band PESQ (at 16 kHz) over the utterances it could score.
    pub pesq: Option<f64>,
    /// Utterances PESQ could not score (under 0.25 s, or no speech found). The reference's
    /// script would average its error code −1 into the mean instead.
    pub pesq_unscored: usize,
    /// Mean V/UV F1 (CREPE at 16 kHz) over the utterances where it is defined, when the CREPE
    /// network was given.
    pub vuv_f1: Option<f64>,
    /// Utterances without a V/UV F1: no voiced frame in common, or too short for a CREPE frame
    /// (the reference skips the former as NaN).
    pub vuv_unscored: usize,
    /// Mean UTMOS of the reconstructions (16 kHz), when the UTMOS network was given.
    #[serde(default)]
    pub utmos: Option<f64>,
    /// Utterances too short for UTMOS (under 400 samples at 16 kHz).
    #[serde(default)]
    pub utmos_unscored: usize,
}

/// The pretrained networks of the optional Table 2 columns.
pub struct AudioEvalNetworks<'a, B: Backend> {
    /// CREPE, for V/UV F1.
    pub crepe: Option<&'a Crepe<B>>,
    /// The UTMOS22 strong learner.
    pub utmos: Option<&'a Utmos<B>>,
}

// By hand: a derive would ask `B: Copy` of the backend, not only of the references.
impl<B: Backend> Clone for AudioEvalNetworks<'_, B> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<B: Backend> Copy for AudioEvalNetworks<'_, B> {}

impl<B: Backend> Default for AudioEvalNetworks<'_, B> {
    fn default() -> Self {
        Self {
            crepe: None,
            utmos: None,
        }
    }
}

/// A mean over the utterances a metric could score.
#[derive(Default)]
struct PartialMean {
    sum: f64,
    scored: usize,
}

impl PartialMean {
    fn add(&mut self, value: f64) {
        self.sum += value;
        self.scored += 1;
    }

    fn mean(&self) -> Option<f64> {
        (self.scored > 0).then(|| self.sum / self.scored as f64)
    }

    /// Utterances not scored, when the metric ran at all.
    fn unscored(&self, utterances: usize, ran: bool) -> usize {
        if ran {
            utterances - self.scored
        } else {
            0
        }
    }
}

/// One evaluated utterance: its file, the original and the reconstruction (same length).
#[derive(Debug, Clone)]
pub struct AudioPair {
    /// The source file.
    pub path: PathBuf,
    /// Original samples.
    pub original: Vec<f32>,
    /// Reconstructed samples as the reference scores them: clipped to ±0.99 and round-tripped
    /// through 16-bit PCM.
    pub reconstruction: Vec<f32>,
}

/// The reference saves reconstructions clipped to ±0.99 as 16-bit PCM and scores them
/// reloaded: libsndfile writes `round(v · 32767)` and reads back `/ 32768`.
fn as_saved(v: f32) -> f32 {
    ((f64::from(v.clamp(-0.99, 0.99)) * 32_767.0).round() / 32_768.0) as f32
}

/// Encodes and decodes up to `limit` utterances (0 = all) of `loader` — whole utterances, one
/// at a time, as the reference evaluates — and returns the metrics (V/UV F1 and UTMOS when
/// their `networks` are given); `visit` sees every pair (to save or show some, and to count
/// progress).
pub fn evaluate_audio<B: Backend, Q: Module<B> + Quantizer<B>>(
    model: &AudioCodec<B, Q>,
    mel: &MelSpectrogram<B>,
    networks: AudioEvalNetworks<'_, B>,
    loader: &AudioLoader,
    limit: usize,
    device: &B::Device,
    mut visit: impl FnMut(AudioPair) -> Result<()>,
) -> Result<AudioEvalReport> {
    let mut usage = CodebookUsage::new(model.codebook_size());
    let rate = loader.example().sample_rate;
    let (mut utterances, mut samples, mut mel_sum, mut stoi_sum) = (0, 0, 0.0, 0.0);
    let (mut pesq, mut vuv, mut utmos) = Default::default();
    'batches: for index in 0..loader.batches_per_epoch() {
        let batch = loader.batch(0, index)?;
        let width = batch.shape[1];
        for (i, (&length, path)) in batch.lengths.iter().zip(&batch.paths).enumerate() {
            if limit > 0 && utterances >= limit {
                break 'batches;
            }
            let original = batch.samples[i * width..i * width + length].to_vec();
            let x =
                Tensor::<B, 2>::from_data(TensorData::new(original.clone(), [1, length]), device);
            let tokens = model.encode(x.clone())?;
            usage.update(&tokens)?;
            let reconstruction: Vec<f32> = model
                .decode_indices(tokens)?
                .narrow(1, 0, length)
                .into_data()
                .convert::<f32>()
                .to_vec::<f32>()
                .expect("f32 data")
                .into_iter()
                .map(as_saved)
                .collect();
            let x_hat = Tensor::<B, 2>::from_data(
                TensorData::new(reconstruction.clone(), [1, length]),
                device,
            );
            let distance: f32 = mel.log_mel_l1(x_hat, x).into_scalar().elem();
            mel_sum += f64::from(distance);
            stoi_sum += stoi(&original, &reconstruction, rate)?;
            score_optional(
                &original,
                &reconstruction,
                rate,
                networks,
                [&mut pesq, &mut vuv, &mut utmos],
                device,
            )?;
            visit(AudioPair {
                path: path.clone(),
                original,
                reconstruction,
            })?;
            utterances += 1;
            samples += length;
        }
    }
    Ok(AudioEvalReport {
        utterances,
        seconds: samples as f64 / f64::from(rate),
        utilization: usage.utilization(),
        perplexity: usage.perplexity(),
        mel_l1: mel_sum / utterances.max(1) as f64,
        stoi: stoi_sum / utterances.max(1) as f64,
        pesq: pesq.mean(),
        pesq_unscored: pesq.unscored(utterances, true),
        vuv_f1: vuv.mean(),
        vuv_unscored: vuv.unscored(utterances, networks.crepe.is_some()),
        utmos: utmos.mean(),
        utmos_unscored: utmos.unscored(utterances, networks.utmos.is_some()),
    })
}

/// Adds one utterance to the means of the metrics some utterances cannot be scored by:
/// wide-band PESQ, and V/UV F1 and UTMOS when their networks are given.
fn score_optional<B: Backend>(
    original: &[f32],
    reconstruction: &[f32],
    rate: u32,
    networks: AudioEvalNetworks<'_, B>,
    [pesq, vuv, utmos]: [&mut PartialMean; 3],
    device: &B::Device,
) -> Result<()> {
    match pesq_wb(original, reconstruction, rate) {
        Ok(score) => pesq.add(score),
        Err(MetricsError::Pesq(_)) => {}
        Err(other) => return Err(other.into()),
    }
    if let Some(crepe) = networks.crepe {
        match vuv_f1_at_rate(crepe, original, reconstruction, rate, device) {
            Ok(Some(f1)) => vuv.add(f1),
            Ok(None) | Err(MetricsError::TooShort { .. }) => {}
            Err(other) => return Err(other.into()),
        }
    }
    if let Some(network) = networks.utmos {
        match network.score_at_rate(reconstruction, rate, device) {
            Ok(score) => utmos.add(score),
            Err(MetricsError::TooShort { .. }) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}

fn output_error(path: &Path, e: impl std::fmt::Display) -> TrainError {
    RunError::output(path, e).into()
}

/// Saves each pair as `NAME.original.wav` and `NAME.reconstructed.wav` in `dir`; returns the
/// files written.
pub fn save_wav_pairs(pairs: &[AudioPair], dir: &Path, sample_rate: u32) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for pair in pairs {
        written.extend(save_wav_pair(pair, dir, sample_rate, true)?);
    }
    Ok(written)
}

/// Saves the reconstruction of `pair` as `dir/NAME.reconstructed.wav`, and with `original`
/// the original beside it as `NAME.original.wav`; returns the files written.
pub fn save_wav_pair(
    pair: &AudioPair,
    dir: &Path,
    sample_rate: u32,
    original: bool,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| output_error(dir, e))?;
    let stem = pair
        .path
        .file_stem()
        .map_or_else(|| "utterance".into(), |s| s.to_string_lossy().into_owned());
    let mut files = vec![("reconstructed", &pair.reconstruction)];
    if original {
        files.insert(0, ("original", &pair.original));
    }
    let mut written = Vec::new();
    for (suffix, samples) in files {
        let path = dir.join(format!("{stem}.{suffix}.wav"));
        write_wav(&path, samples, sample_rate)?;
        written.push(path);
    }
    Ok(written)
}

/// Dynamic range drawn, in dB below each original's peak.
const RANGE_DB: f64 = 80.0;

/// A PNG of mel spectrograms: for each pair, the original above its reconstruction (low
/// frequencies at the bottom, one pixel per frame, magma-like colours on a dB scale shared
/// by the two), pairs stacked top to bottom.
pub fn save_mel_png<B: Backend>(
    pairs: &[AudioPair],
    mel: &MelSpectrogram<B>,
    path: &Path,
    device: &B::Device,
) -> Result<()> {
    let spectrogram = |samples: &[f32]| -> (Vec<f32>, [usize; 2]) {
        let wave = Tensor::<B, 2>::from_data(
            TensorData::new(samples.to_vec(), [1, samples.len()]),
            device,
        );
        let m = mel.forward(wave);
        let [_, bands, frames] = m.dims();
        let values = m.into_data().convert::<f32>().to_vec().expect("f32 data");
        (values, [bands, frames])
    };
    let mut rows = Vec::new();
    for pair in pairs {
        let (original, shape) = spectrogram(&pair.original);
        let (reconstruction, _) = spectrogram(&pair.reconstruction);
        let peak = original.iter().copied().fold(1e-10f32, f32::max);
        let top_db = 20.0 * f64::from(peak).log10();
        rows.push((original, shape, top_db));
        rows.push((reconstruction, shape, top_db));
    }
    let Some(width) = rows.iter().map(|(_, [_, frames], _)| *frames).max() else {
        return Ok(());
    };
    const GAP: usize = 2;
    let height: usize = rows.iter().map(|(_, [bands, _], _)| bands + GAP).sum();
    let mut png = RgbImage::from_pixel(width as u32, height as u32, Rgb([255, 255, 255]));
    let mut top = 0;
    for (values, [bands, frames], top_db) in &rows {
        for band in 0..*bands {
            for frame in 0..*frames {
                let db = 20.0 * f64::from(values[band * frames + frame].max(1e-10)).log10();
                let level = ((db - (top_db - RANGE_DB)) / RANGE_DB).clamp(0.0, 1.0);
                let y = top + bands - 1 - band;
                png.put_pixel(frame as u32, y as u32, magma(level));
            }
        }
        top += bands + GAP;
    }
    png.save(path).map_err(|e| output_error(path, e))
}

/// A magma-like colour map: black, purple, red, orange, pale yellow.
fn magma(level: f64) -> Rgb<u8> {
    const STOPS: [[f64; 3]; 5] = [
        [0.0, 0.0, 4.0],
        [81.0, 18.0, 124.0],
        [183.0, 55.0, 121.0],
        [252.0, 137.0, 97.0],
        [252.0, 253.0, 191.0],
    ];
    let x = level * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let t = x - i as f64;
    let mix = |c: usize| (STOPS[i][c] + t * (STOPS[i + 1][c] - STOPS[i][c])).round() as u8;
    Rgb([mix(0), mix(1), mix(2)])
}
