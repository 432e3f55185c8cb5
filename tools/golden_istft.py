"""Golden values for simvq-audio's iSTFT head: Vocos/WavTokenizer's `ISTFT(padding="same")`
(irfft, periodic Hann window, `fold` overlap-add, trim, window envelope) and the head's
magnitude/phase synthesis (`exp` clipped at 100, `cos`/`sin`), in torch.

Inputs come from a formula the Rust test repeats. Needs `pip install torch`.

    /tmp/vqenv/bin/python tools/golden_istft.py
"""

import json
import pathlib

import numpy as np
import torch

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/simvq-audio/tests/fixtures"


def formula(shape, salt, amplitude, offset=0.0):
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.float64)
    return (offset + amplitude * np.sin(0.37 * i + salt)).astype(np.float32).reshape(shape)


def istft_same(spec, n_fft, hop):
    """Vocos' ISTFT.forward with padding="same"."""
    window = torch.hann_window(n_fft)
    pad = (n_fft - hop) // 2
    _, _, frames = spec.shape
    ifft = torch.fft.irfft(spec, n_fft, dim=1, norm="backward")
    ifft = ifft * window[None, :, None]
    output_size = (frames - 1) * hop + n_fft
    y = torch.nn.functional.fold(
        ifft, output_size=(1, output_size), kernel_size=(1, n_fft), stride=(1, hop)
    )[:, 0, 0, pad:-pad]
    window_sq = window.square().expand(1, frames, -1).transpose(1, 2)
    envelope = torch.nn.functional.fold(
        window_sq, output_size=(1, output_size), kernel_size=(1, n_fft), stride=(1, hop)
    ).squeeze()[pad:-pad]
    return y / envelope


def main():
    cases = []
    for (n_fft, hop, frames, salt) in [(1280, 320, 6, 1.0), (16, 4, 5, 2.0)]:
        bins = n_fft // 2 + 1
        # Log-magnitudes around 0 with some above log(100) to exercise the clip.
        log_mag = torch.from_numpy(formula((2, bins, frames), salt, 3.0, offset=1.0))
        phase = torch.from_numpy(formula((2, bins, frames), salt + 10.0, 3.1))
        mag = torch.clip(torch.exp(log_mag), max=1e2)
        spec = mag * (torch.cos(phase) + 1j * torch.sin(phase))
        audio = istft_same(spec, n_fft, hop)
        cases.append({
            "n_fft": n_fft, "hop": hop, "frames": frames, "salt": salt,
            "log_magnitude": {"amplitude": 3.0, "offset": 1.0, "salt": salt},
            "phase": {"amplitude": 3.1, "offset": 0.0, "salt": salt + 10.0},
            "audio_shape": list(audio.shape),
            "audio": audio.reshape(-1).tolist(),
        })
    (OUT / "istft_golden.json").write_text(json.dumps({
        "torch_version": torch.__version__,
        "formula": "offset + amplitude * sin(0.37 * flat_index + salt) over [2, bins, frames], f64 then f32",
        "cases": cases,
    }))


if __name__ == "__main__":
    main()
