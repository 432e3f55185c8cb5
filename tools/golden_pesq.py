"""Golden values for simvq-metrics' wide-band PESQ, from the `pesq` Python package 0.0.4 (the
ITU-T P.862.2 C code the reference evaluates with: fs 16000, mode "wb"), on the two demo
utterances (16 kHz CMU ARCTIC, crates/simvq-data/tests/fixtures/arctic) against closed-form
degradations, all as 16-bit PCM so both sides score the same samples.

    /tmp/taenv/bin/pip install pesq==0.0.4 soundfile
    /tmp/taenv/bin/python tools/golden_pesq.py
"""

import json
import pathlib

import numpy as np
import pesq
import soundfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
SPEECH = ROOT / "crates/simvq-data/tests/fixtures/arctic"
OUT = ROOT / "crates/simvq-metrics/tests/fixtures"


def hiss(n):
    i = np.arange(n, dtype=np.float64)
    return np.sin(0.37 * i * i % (2 * np.pi) + 0.1 * i)


def to_pcm(v):
    return np.clip(np.floor(v * 32768.0 + 0.5), -32768, 32767).astype(np.int16)


DEGRADATIONS = {
    "hiss_0.02": lambda x: x + 0.02 * hiss(len(x)),
    "hiss_0.005": lambda x: x + 0.005 * hiss(len(x)),
    "smoothed": lambda x: np.convolve(x, [0.25, 0.5, 0.25], mode="same"),
    "half_delayed": lambda x: 0.5 * np.concatenate([np.zeros(40), x[:-40]]),
}


def main():
    cases = []
    for name in ("arctic_a0007.wav", "arctic_a0009.wav"):
        pcm, fs = soundfile.read(SPEECH / name, dtype="int16")
        assert fs == 16000
        x = pcm.astype(np.float64) / 32768.0
        for how, degrade in DEGRADATIONS.items():
            deg = to_pcm(degrade(x))
            score = pesq.pesq(16000, pcm, deg, "wb")
            cases.append({"file": name, "degradation": how, "pesq_wb": float(score)})
            print(name, how, score)
    (OUT / "pesq_golden.json").write_text(json.dumps({
        "pesq_package": "0.0.4",
        "cases": cases,
    }, indent=1))


if __name__ == "__main__":
    main()
