"""How much a fresh SEANet encoder's output depends on its input, at PyTorch's default init (the
reference's) and after the data-dependent init of `schedule.encoder_init = "data"`; the numbers
quoted in docs/quantizers.md ("A fresh audio encoder outputs a constant").

EnCodec's own `SEANetEncoder` at the audio demo's width, on 2 s of the first twelve built-in
training files (resampled to 24 kHz). Prints, for frames 8 onwards, the norm of the mean latent,
the standard deviation over time within a file (mean over channels and files) and the standard
deviation of the files' means. Needs `pip install torch scipy soundfile einops` and
`pip install --no-deps encodec` (its package __init__ imports torchaudio, so only its modules are
loaded).

    python tools/seanet_init_probe.py
"""

import glob
import importlib
import pathlib
import sys
import types

import numpy as np
import soundfile as sf
import torch
from scipy.signal import resample_poly
spec = importlib.util.find_spec("encodec")
pkg = types.ModuleType("encodec"); pkg.__path__ = list(spec.submodule_search_locations); sys.modules["encodec"] = pkg
SEANetEncoder = importlib.import_module("encodec.modules.seanet").SEANetEncoder
from math import gcd

ROOT = pathlib.Path(__file__).resolve().parent.parent
def load(p):
    x, sr = sf.read(p, dtype="float32")
    if x.ndim > 1: x = x.mean(1)
    g = gcd(sr, 24000); x = resample_poly(x, 24000 // g, sr // g).astype(np.float32)
    return torch.from_numpy(x[: 24000 * 2]).reshape(1, 1, -1)
files = sorted(glob.glob(str(ROOT / "crates/simvq-data/demo/speech/train/*.flac")))[:12]
waves = [load(f) for f in files]
def stats(model, tag):
    with torch.no_grad():
        lat = [model(w)[0].T[8:] for w in waves]  # [T, D], skip start frames
    within = np.mean([l.std(0).mean().item() for l in lat])
    means = torch.stack([l.mean(0) for l in lat])
    between = means.std(0).mean().item()
    print(f"{tag}: |mean| {means.mean(0).norm():.3f} within-file std {within:.4f} between-file std {between:.4f}")
torch.manual_seed(0)
m = SEANetEncoder(channels=1, dimension=64, n_filters=8, ratios=[8,5,4,2], causal=True, pad_mode="reflect", lstm=1, true_skip=False)
stats(m, "fresh (PyTorch default init)")
# data-dependent init of every weight-normed conv (Salimans & Kingma 2016)
batch = torch.cat([w[..., :12000] for w in waves[:8]], 0)
convs = [mod for mod in m.modules() if type(mod).__name__ == "NormConv1d"]
for c in convs:
    out = {}
    h = c.register_forward_hook(lambda mod, i, o: out.__setitem__("y", o))
    with torch.no_grad():
        m(batch)
        y = out["y"]; mu = y.mean((0, 2)); sd = y.std((0, 2)) + 1e-5
        conv = c.conv
        conv.weight_g.div_(sd.reshape(-1, 1, 1)); conv.bias.sub_(mu).div_(sd)
    h.remove()
stats(m, "data-dependent init")
