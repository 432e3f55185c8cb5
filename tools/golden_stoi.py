"""Golden values for simvq-metrics' STOI, from pystoi 0.4.1 (classic STOI, not extended; the
reference's evaluation computes it at 24 kHz, which pystoi resamples to 10 kHz with its
Octave-compatible polyphase filter).

Signals are closed-form so the Rust test rebuilds them: a vowel-like "clean" signal (harmonics
of a gliding pitch under a syllable envelope, with pauses) and "processed" versions of it.

    /tmp/taenv/bin/pip install pystoi==0.4.1
    /tmp/taenv/bin/python tools/golden_stoi.py
"""

import json
import pathlib

import numpy as np
import pystoi
from pystoi import utils

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/simvq-metrics/tests/fixtures"


def clean(fs, seconds):
    t = np.arange(int(fs * seconds)) / fs
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / fs
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = np.maximum(np.sin(2 * np.pi * 2.5 * t), 0.0) ** 2
    return 0.3 * voice * envelope


def hiss(n):
    i = np.arange(n, dtype=np.float64)
    return np.sin(0.37 * i * i % 6.283185307179586 + 0.1 * i)


PROCESSINGS = {
    "identical": lambda x: x,
    "noisy": lambda x: x + 0.05 * hiss(len(x)),
    "very_noisy": lambda x: x + 0.3 * hiss(len(x)),
    "scaled_delayed": lambda x: 0.5 * np.concatenate([np.zeros(7), x[:-7]]),
}


def main():
    cases = []
    for fs in (24000, 16000, 10000):
        x = clean(fs, 2.0)
        for name, process in PROCESSINGS.items():
            y = process(x)
            cases.append({"fs": fs, "processing": name, "stoi": float(pystoi.stoi(x, y, fs))})
    x = clean(24000, 0.2)
    resampled = utils.resample_oct(x, 10000, 24000)
    (OUT / "stoi_golden.json").write_text(json.dumps({
        "pystoi_version": "0.4.1",
        "signal": "tools/golden_stoi.py clean(fs, 2.0) and PROCESSINGS",
        "cases": cases,
        "resample_24k_to_10k": {"input_seconds": 0.2, "output": resampled.tolist()},
    }, indent=1))
    for c in cases:
        print(c)


if __name__ == "__main__":
    main()
