"""Golden values for simvq-metrics' `sinc_resample` (the evaluation path's resampler) from
torchaudio's own `functional.resample` with its defaults (sinc_interp_hann, lowpass_filter_width
6, rolloff 0.99), and the reference's whole PESQ path on one pair.

Cases: real speech (a validation clip of the built-in data, 16 kHz FLAC) 16 → 24 kHz, the same
speech at 24 kHz (torchaudio's upsampling) 24 → 16 kHz, a 24 kHz chirp 24 → 16 kHz, and tones at
22.05 and 48 kHz → 24 kHz. Each stores the output length, its first and last 160 samples, every
61st sample, and the sum and sum of squares of all of it.

PESQ: the clip at 24 kHz against a closed-form degradation of it (3-tap smoothing + hiss), both
resampled to 16 kHz by torchaudio and scored by the `pesq` package as the reference's
`evaluation_speech.py` does (float arrays, fs 16000, "wb").

    pip install torch torchaudio pesq==0.0.4 soundfile numpy   # torch 2.15, torchaudio 2.11
    python tools/golden_resample.py
"""

import json
import math
import pathlib

import numpy as np
import pesq
import soundfile
import torch
import torchaudio

ROOT = pathlib.Path(__file__).resolve().parent.parent
CLIP = ROOT / "crates/simvq-data/demo/speech/val/librivox-ss01_0880.flac"
OUT = ROOT / "crates/simvq-metrics/tests/fixtures/resample_golden.json"
EDGE, STRIDE = 160, 61


def chirp(rate, seconds):
    """`0.5·sin(2π(100 t + 2000 t²))`: 100 Hz rising past both Nyquist frequencies."""
    t = np.arange(int(rate * seconds), dtype=np.float64) / rate
    return (0.5 * np.sin(2 * math.pi * (100 * t + 2000 * t * t))).astype(np.float32)


def tones(rate, seconds):
    """440 Hz + 0.3 × 9 kHz + 0.2 × 11.5 kHz (above 24 kHz's passband edge only at 22.05 kHz)."""
    t = np.arange(int(rate * seconds), dtype=np.float64) / rate
    x = 0.4 * np.sin(2 * math.pi * 440 * t) + 0.3 * np.sin(2 * math.pi * 9000 * t)
    x = x + 0.2 * np.sin(2 * math.pi * 11500 * t)
    return x.astype(np.float32)


def resample(x, from_rate, to_rate):
    return torchaudio.functional.resample(torch.from_numpy(x), from_rate, to_rate).numpy()


def summary(name, signal, from_rate, to_rate):
    y = resample(signal, from_rate, to_rate).astype(np.float64)
    return {
        "name": name,
        "from": from_rate,
        "to": to_rate,
        "input_len": len(signal),
        "len": len(y),
        "head": y[:EDGE].tolist(),
        "tail": y[-EDGE:].tolist(),
        "strided": y[::STRIDE].tolist(),
        "sum": float(y.sum()),
        "sum_sq": float((y * y).sum()),
    }


def hiss(n):
    i = np.arange(n, dtype=np.float64)
    return np.sin(0.37 * i * i % (2 * np.pi) + 0.1 * i)


def degrade(x):
    """What tests/resample.rs computes: `0.25·x[i−1] + 0.5·x[i] + 0.25·x[i+1] + 0.01·hiss(i)`."""
    x = x.astype(np.float64)
    return (np.convolve(x, [0.25, 0.5, 0.25], mode="same") + 0.01 * hiss(len(x))).astype(np.float32)


def main():
    pcm, rate = soundfile.read(CLIP, dtype="int16")
    assert rate == 16000
    speech16 = (pcm.astype(np.float32) / 32768.0).astype(np.float32)
    speech24 = resample(speech16, 16000, 24000)
    cases = [
        summary("speech", speech16, 16000, 24000),
        summary("speech", speech24, 24000, 16000),
        summary("chirp", chirp(24000, 1.5), 24000, 16000),
        summary("tones", tones(22050, 1.0), 22050, 24000),
        summary("tones", tones(48000, 1.0), 48000, 24000),
    ]
    degraded24 = degrade(speech24)
    score = pesq.pesq(16000, resample(speech24, 24000, 16000), resample(degraded24, 24000, 16000), "wb")
    print("reference PESQ-WB of the pair:", score)
    OUT.write_text(json.dumps({
        "torchaudio": torchaudio.__version__,
        "clip": CLIP.name,
        "edge": EDGE,
        "stride": STRIDE,
        "cases": cases,
        "pesq_wb": float(score),
    }))


if __name__ == "__main__":
    main()
