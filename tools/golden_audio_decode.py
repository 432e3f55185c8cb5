"""Fixtures for simvq-data's audio decoding: one stereo test signal (0.2 s at 22,050 Hz) in
FLAC, OGG/Vorbis and MP3, and each file's mono samples as soundfile (libsndfile, what
librosa.load reads with) decodes them. WAV variants are written by the Rust test itself.

    /tmp/taenv/bin/pip install soundfile numpy
    /tmp/taenv/bin/python tools/golden_audio_decode.py
"""

import json
import pathlib

import numpy as np
import soundfile

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/simvq-data/tests/fixtures/audio"
RATE = 22050
FORMATS = {"flac": ("FLAC", "PCM_16"), "ogg": ("OGG", "VORBIS"), "mp3": ("MP3", "MPEG_LAYER_III")}


def main():
    n = np.arange(int(0.2 * RATE))
    left = 0.5 * np.sin(2 * np.pi * 440 * n / RATE)
    right = 0.3 * np.sin(2 * np.pi * 1000 * n / RATE + 0.5)
    stereo = np.stack([left, right], axis=1).astype(np.float32)
    golden = {"sample_rate": RATE, "soundfile": soundfile.__version__,
              "libsndfile": soundfile.__libsndfile_version__, "files": {}}
    for ext, (fmt, subtype) in FORMATS.items():
        path = OUT / f"tone.{ext}"
        soundfile.write(path, stereo, RATE, format=fmt, subtype=subtype)
        decoded, rate = soundfile.read(path, dtype="float32", always_2d=True)
        assert rate == RATE
        golden["files"][f"tone.{ext}"] = [round(float(v), 7) for v in decoded.mean(axis=1)]
    (OUT / "decoded.json").write_text(json.dumps(golden))


if __name__ == "__main__":
    main()
