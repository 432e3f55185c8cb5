//! Audio data: decoding every supported format (WAV variants written here; FLAC, OGG/Vorbis
//! and MP3 against soundfile's decoding, `tools/golden_audio_decode.py`), resampling, crops
//! with self-tiling, manifests, and bad files skipped and named.

use std::f64::consts::PI;
use std::path::Path;

use rand::{rngs::StdRng, SeedableRng};
use simvq_data::{
    crop_or_tile, decode_audio, load_audio, resample, AudioClip, AudioLoader, DataError, FileList,
};
use simvq_testkit::{assert_close, numbers, read_json, Tolerance};

const RATE: u32 = 22_050;

/// The stereo test tone of tools/golden_audio_decode.py, channel `c` at frame `n`.
fn tone(c: usize, n: usize) -> f64 {
    let t = n as f64 / f64::from(RATE);
    if c == 0 {
        0.5 * (2.0 * PI * 440.0 * t).sin()
    } else {
        0.3 * (2.0 * PI * 1000.0 * t + 0.5).sin()
    }
}

fn write_wav(path: &Path, bits: u16, float: bool, frames: usize) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: RATE,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for n in 0..frames {
        for c in 0..2 {
            let v = tone(c, n);
            if float {
                writer.write_sample(v as f32).unwrap();
            } else {
                let full = f64::from(1u32 << (bits - 1));
                let q = (v * full).round().clamp(-full, full - 1.0);
                match bits {
                    8 => writer.write_sample(q as i8).unwrap(),
                    16 => writer.write_sample(q as i16).unwrap(),
                    _ => writer.write_sample(q as i32).unwrap(),
                }
            }
        }
    }
    writer.finalize().unwrap();
}

#[test]
fn wav_of_every_sample_format_decodes_to_the_mono_mean() {
    let dir = tempfile::tempdir().unwrap();
    for (bits, float, tolerance) in [
        (8, false, 1.0 / 128.0),
        (16, false, 1.0 / 32_768.0),
        (24, false, 1e-6),
        (32, false, 1e-6),
        (32, true, 1e-7),
    ] {
        let path = dir.path().join(format!("tone_{bits}_{float}.wav"));
        write_wav(&path, bits, float, 2_000);
        let audio = decode_audio(&path).unwrap();
        assert_eq!(audio.sample_rate, RATE);
        assert_eq!(audio.samples.len(), 2_000, "{bits}-bit");
        let got: Vec<f64> = audio.samples.iter().map(|&v| f64::from(v)).collect();
        let want: Vec<f64> = (0..2_000)
            .map(|n| (tone(0, n) + tone(1, n)) / 2.0)
            .collect();
        assert_close(
            &got,
            &want,
            Tolerance::absolute(tolerance),
            &format!("{bits}-bit float={float}"),
        );
    }
}

#[test]
fn flac_ogg_and_mp3_decode_as_soundfile_does() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audio");
    let golden = read_json(fixtures.join("decoded.json"));
    // FLAC is lossless; Vorbis and MP3 decoders may differ in the last bits of their
    // floating-point synthesis.
    for (file, tolerance) in [("tone.flac", 1e-6), ("tone.ogg", 1e-4), ("tone.mp3", 1e-4)] {
        let audio = decode_audio(&fixtures.join(file)).unwrap();
        assert_eq!(audio.sample_rate, RATE, "{file}");
        let want = numbers(&golden["files"][file]);
        assert_eq!(audio.samples.len(), want.len(), "{file}: length");
        let got: Vec<f64> = audio.samples.iter().map(|&v| f64::from(v)).collect();
        assert_close(&got, &want, Tolerance::absolute(tolerance), file);
    }
}

#[test]
fn bad_files_are_errors_that_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.wav");
    write_wav(&good, 16, false, 4_000);
    let bytes = std::fs::read(&good).unwrap();
    let cases = [
        (
            "truncated.wav",
            bytes[..bytes.len() / 2].to_vec(),
            "truncated",
        ),
        ("empty.wav", Vec::new(), ""),
        ("text.wav", b"this is not audio".to_vec(), ""),
        ("header_only.wav", bytes[..44].to_vec(), ""),
    ];
    for (name, content, reason) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let err = decode_audio(&path).unwrap_err();
        assert!(matches!(err, DataError::Unreadable { .. }), "{name}: {err}");
        let message = err.to_string();
        assert!(
            message.contains(name) && message.contains(reason),
            "{message}"
        );
    }
    let missing = decode_audio(&dir.path().join("missing.flac")).unwrap_err();
    assert!(missing.to_string().contains("missing.flac"));
}

#[test]
fn resampling_keeps_the_signal_and_the_duration() {
    // A 1 kHz tone at 16 kHz → 24 kHz: every interior sample on the analytic tone.
    let from: Vec<f32> = (0..16_000)
        .map(|n| (0.5 * (2.0 * PI * 1000.0 * f64::from(n) / 16_000.0).sin()) as f32)
        .collect();
    let to = resample(&from, 16_000, 24_000).unwrap();
    assert_eq!(to.len(), 24_000);
    let interior: Vec<f64> = to[200..23_800].iter().map(|&v| f64::from(v)).collect();
    let analytic: Vec<f64> = (200..23_800)
        .map(|n| {
            let t = n as f64 / 24_000.0;
            0.5 * (2.0 * PI * 1000.0 * t).sin()
        })
        .collect();
    assert_close(
        &interior,
        &analytic,
        Tolerance::absolute(1e-3),
        "16 → 24 kHz interior",
    );
    // Odd lengths round up, downsampling too.
    assert_eq!(resample(&from[..1001], 16_000, 24_000).unwrap().len(), 1502);
    assert_eq!(resample(&from[..1001], 24_000, 16_000).unwrap().len(), 668);
}

#[test]
fn crops_are_random_windows_and_short_clips_are_tiled() {
    let clip: Vec<f32> = (0..10).map(|v| v as f32).collect();
    let mut rng = StdRng::seed_from_u64(0);
    let tiled = crop_or_tile(&clip, 25, &mut rng);
    assert_eq!(
        tiled[..12],
        [0., 1., 2., 3., 4., 5., 6., 7., 8., 9., 0., 1.]
    );
    assert_eq!(tiled.len(), 25);
    let long: Vec<f32> = (0..1000).map(|v| v as f32).collect();
    let mut starts = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let window = crop_or_tile(&long, 100, &mut rng);
        assert!(window.windows(2).all(|w| w[1] == w[0] + 1.0));
        assert!(window[0] < 900.0, "start in [0, len - length)");
        starts.insert(window[0] as usize);
    }
    assert!(starts.len() > 100, "starts vary: {}", starts.len());
}

/// Two CMU ARCTIC utterances kept as fixtures (16 kHz WAV, 64,000 and 49,520 samples).
fn arctic() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/arctic")
}

#[test]
fn the_loader_serves_one_second_crops_at_24_khz_and_skips_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["arctic_a0007.wav", "arctic_a0009.wav"] {
        std::fs::copy(arctic().join(file), dir.path().join(file)).unwrap();
    }
    std::fs::write(dir.path().join("broken.wav"), b"RIFF....WAVEjunk").unwrap();
    let files = FileList::audio(dir.path()).unwrap();
    assert_eq!(files.len(), 3);
    let clip = AudioClip {
        sample_rate: 24_000,
        length: Some(24_000),
    };
    let loader = AudioLoader::new(files.clone(), clip, 3, true, 7).unwrap();
    let batch = loader.batch(0, 0).unwrap();
    assert_eq!(batch.shape, [2, 24_000]);
    assert_eq!(batch.lengths, [24_000, 24_000]);
    let skipped = loader.take_skipped();
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0].path.ends_with("broken.wav"));
    // Same seed, same crops; another epoch, other crops.
    let again = AudioLoader::new(files.clone(), clip, 3, true, 7).unwrap();
    assert_eq!(again.batch(0, 0).unwrap().samples, batch.samples);
    assert_ne!(again.batch(1, 0).unwrap().samples, batch.samples);

    // Whole utterances, zero-padded to the longest: 64,000 and 49,520 samples at 16 kHz → 24 kHz.
    let whole = AudioLoader::new(
        files,
        AudioClip {
            sample_rate: 24_000,
            length: None,
        },
        3,
        false,
        0,
    )
    .unwrap();
    let batch = whole.batch(0, 0).unwrap();
    assert_eq!(batch.lengths, [96_000, 74_280]);
    assert_eq!(batch.shape, [2, 96_000]);
    assert!(batch.samples[96_000 + 74_280..].iter().all(|&v| v == 0.0));
    let direct = load_audio(&arctic().join("arctic_a0009.wav"), 24_000).unwrap();
    assert_eq!(&batch.samples[96_000..96_000 + 74_280], &direct[..]);
}

#[test]
fn manifests_list_relative_paths_of_the_chosen_splits() {
    let root = tempfile::tempdir().unwrap();
    for (split, speaker) in [
        ("train-clean-100", "19"),
        ("train-clean-360", "14"),
        ("dev-clean", "84"),
    ] {
        let dir = root.path().join(split).join(speaker).join("198");
        std::fs::create_dir_all(&dir).unwrap();
        write_wav(
            &dir.join(format!("{speaker}_198_000000_000000.wav")),
            16,
            false,
            10,
        );
        std::fs::write(dir.join("notes.txt"), "not audio").unwrap();
    }
    let splits = ["train-clean-100".to_string(), "train-clean-360".to_string()];
    let list = FileList::splits(root.path(), &splits, &["wav"]).unwrap();
    let manifest = list.manifest();
    assert_eq!(
        manifest,
        "train-clean-100/19/198/19_198_000000_000000.wav\n\
         train-clean-360/14/198/14_198_000000_000000.wav\n"
    );
    let path = root.path().join("train.txt");
    std::fs::write(&path, &manifest).unwrap();
    let read = FileList::from_manifest(&path, root.path()).unwrap();
    assert_eq!(read.files(), list.files());

    let missing = FileList::splits(root.path(), &["test-other".to_string()], &["wav"]);
    assert!(matches!(missing, Err(DataError::MissingRoot(p)) if p.ends_with("test-other")));
    std::fs::write(&path, "\n\n").unwrap();
    assert!(matches!(
        FileList::from_manifest(&path, root.path()),
        Err(DataError::EmptyManifest(_))
    ));
}
