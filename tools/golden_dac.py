"""Golden values for simvq-audio's DAC discriminator, from the `descript-audio-codec` package's
own `dac/model/discriminator.py` (version 1.0.0), with the reference's spectrogram: SimVQ's
copy replaces audiotools' STFT with `torch.stft(n_fft=w)` defaults (hop w/4, rectangular
window, centred, reflect). audiotools itself is not needed: the file is loaded with a stub.

Weights are closed-form (the full-width discriminator is ~50 M parameters, too big for a
fixture), the same formulas as the Rust test:
    weight_v[i] = sin(0.37 i + 0.01 numel), weight_g[o] = 0.5 + 0.25 cos(0.9 o),
    bias[o] = 0.01 sin(1.7 o)                 (i, o: row-major flat index)

    /tmp/taenv/bin/pip download --no-deps descript-audio-codec==1.0.0  # then unzip the wheel
    /tmp/taenv/bin/pip install einops
    DAC_WHEEL_DIR=/tmp/dacdl/dacpkg /tmp/taenv/bin/python tools/golden_dac.py
"""

import importlib.util
import json
import os
import pathlib
import sys
import types

import numpy as np
import torch
from torch import nn

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/simvq-audio/tests/fixtures"


class Signal:
    """The part of audiotools' `AudioSignal` that DAC's `GANLoss` touches."""

    def __init__(self, audio_data):
        self.audio_data = audio_data

    def clone(self):
        return Signal(self.audio_data.clone())

    def detach(self):
        return Signal(self.audio_data.detach())


def load_dac_file(relative):
    audiotools = types.ModuleType("audiotools")
    audiotools.AudioSignal = Signal
    audiotools.STFTParams = lambda **kwargs: kwargs
    audiotools.ml = types.SimpleNamespace(BaseModel=nn.Module)
    sys.modules["audiotools"] = audiotools
    path = pathlib.Path(os.environ["DAC_WHEEL_DIR"]) / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_spectrogram(self, x):
    """SimVQ's `MRD.spectrogram`: torch.stft defaults instead of audiotools."""
    w = self.window_length
    spec = torch.stft(x.squeeze(1), n_fft=w, hop_length=w // 4, return_complex=True)
    x = torch.view_as_real(spec).permute(0, 3, 2, 1)  # [B, F, T, 2] -> [B, 2, T, F]
    return [x[..., b[0] : b[1]] for b in self.bands]


def closed_form(name, shape):
    numel = int(np.prod(shape))
    i = np.arange(numel, dtype=np.float64)
    if name.endswith("weight_v"):
        values = np.sin(0.37 * i + 0.01 * numel)
    elif name.endswith("weight_g"):
        values = 0.5 + 0.25 * np.cos(0.9 * i)
    elif name.endswith("bias"):
        values = 0.01 * np.sin(1.7 * i)
    else:
        raise ValueError(name)
    return torch.from_numpy(values.reshape(shape).astype(np.float32))


def main():
    dac = load_dac_file("dac/model/discriminator.py")
    losses = load_dac_file("dac/nn/loss.py")
    dac.MRD.spectrogram = reference_spectrogram
    disc = dac.Discriminator(rates=[], periods=[2, 3, 5, 7, 11], fft_sizes=[2048, 1024, 512])
    with torch.no_grad():
        for name, p in disc.named_parameters():
            p.copy_(closed_form(name, tuple(p.shape)))
    parameters = sum(p.numel() for p in disc.parameters())

    length = 3000  # divisible by 2, 3, 5: the full-period padding is exercised
    n = np.arange(length, dtype=np.float64)
    real = 0.3 + 0.5 * np.sin(0.05 * n) + 0.2 * np.sin(0.31 * n + 1.0)
    fake = 0.4 * np.sin(0.07 * n + 0.5) - 0.1 * np.cos(0.5 * n)
    real_t = torch.from_numpy(real.astype(np.float32)).reshape(1, 1, length)
    fake_t = torch.from_numpy(fake.astype(np.float32)).reshape(1, 1, length)
    with torch.no_grad():
        real_maps = disc(real_t)
        fake_maps = disc(fake_t)
    cases = []
    for fmaps in real_maps:
        cases.append({
            "logits": fmaps[-1].reshape(-1).tolist(),
            "feature_shapes": [list(f.shape) for f in fmaps],
            "feature_means": [f.mean().item() for f in fmaps],
            "feature_abs_means": [f.abs().mean().item() for f in fmaps],
        })
    gan = losses.GANLoss(disc)
    with torch.no_grad():
        d_loss = gan.discriminator_loss(Signal(fake_t), Signal(real_t))
        g_loss, fm_loss = gan.generator_loss(Signal(fake_t), Signal(real_t))
    (OUT / "dac_golden.json").write_text(json.dumps({
        "dac_version": "1.0.0",
        "torch_version": torch.__version__,
        "real": "0.3 + 0.5 sin(0.05 n) + 0.2 sin(0.31 n + 1), n = 0..3000, shape [1, 3000]",
        "fake": "0.4 sin(0.07 n + 0.5) - 0.1 cos(0.5 n)",
        "parameters": parameters,
        "real_cases": cases,
        "discriminator_loss": d_loss.item(),
        "generator_loss": g_loss.item(),
        "feature_matching_loss": fm_loss.item(),
    }))
    print("parameters", parameters, "d", d_loss.item(), "g", g_loss.item(), "fm", fm_loss.item())


if __name__ == "__main__":
    main()
