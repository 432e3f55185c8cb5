"""Golden values for simvq-audio's log-mel loss: torchaudio's MelSpectrogram exactly as the
reference's mel loss builds it (24 kHz, n_fft 1024, hop 256, 100 HTK mels over 0-12 kHz, no
norm, power 1, centred, reflect), the log with the 1e-7 floor, and the L1 between two signals.

torchaudio's wheels pair with torch 2.11 (not the 2.15 of the other scripts):

    python3 -m venv /tmp/taenv && /tmp/taenv/bin/pip install "torch==2.11.*" "torchaudio==2.11.*"
    /tmp/taenv/bin/python tools/golden_mel.py
"""

import json
import pathlib

import numpy as np
import torch
import torchaudio

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/simvq-audio/tests/fixtures"


def signal(length, salt):
    n = np.arange(length, dtype=np.float64)
    chirp = np.sin(2 * np.pi * (200 + 3000 * n / length) * n / 24000 + salt)
    return (0.5 * chirp + 0.1 * np.sin(0.37 * n + 3 * salt)).astype(np.float32)


def main():
    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=24000, n_fft=1024, win_length=1024, hop_length=256, n_mels=100,
        f_min=0, f_max=12000, power=1, center=True, pad_mode="reflect", norm=None,
        mel_scale="htk",
    )
    length = 6000
    x = torch.from_numpy(np.stack([signal(length, 0.0), signal(length, 1.0)]))
    y = torch.from_numpy(np.stack([signal(length, 0.5), 0.9 * signal(length, 1.0)]))
    mx, my = mel(x), mel(y)
    log = lambda m: torch.log(torch.clip(m, min=1e-7))
    loss = torch.nn.functional.l1_loss(log(mx), log(my))
    (OUT / "mel_golden.json").write_text(json.dumps({
        "torch_version": torch.__version__,
        "torchaudio_version": torchaudio.__version__,
        "signal": "0.5*sin(2*pi*(200 + 3000*n/L)*n/24000 + salt) + 0.1*sin(0.37*n + 3*salt), L = 6000; x salts 0, 1; y salt 0.5 and 0.9 * (salt 1)",
        "length": length,
        "filterbank_shape": list(mel.mel_scale.fb.shape),
        "filterbank_nonzero": [
            [i, m, float(f"{v:.9g}")]
            for i, row in enumerate(mel.mel_scale.fb.tolist())
            for m, v in enumerate(row)
            if v != 0.0
        ],
        "mel_shape": list(mx.shape),
        "mel_x": [float(f"{v:.8g}") for v in mx.reshape(-1).tolist()],
        "loss": loss.item(),
    }))


if __name__ == "__main__":
    main()
