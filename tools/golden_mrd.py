"""Golden values for simvq-audio's multi-resolution discriminator, from vocos 0.0.3's
`DiscriminatorR` (UnivNet's, the one WavTokenizer and the reference train with; vocos 0.1
replaced it with DAC's multi-band one). Width 8 instead of 64 to keep the fixture small; the
three reference resolutions; random weights saved as a state dict.

    /tmp/taenv/bin/pip install --no-deps "vocos==0.0.3"
    /tmp/taenv/bin/python tools/golden_mrd.py
"""

import json
import pathlib

import numpy as np
import torch
from vocos.discriminators import DiscriminatorR

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/simvq-audio/tests/fixtures"
RESOLUTIONS = ((1024, 256, 1024), (2048, 512, 2048), (512, 128, 512))


def main():
    torch.manual_seed(0)
    discriminators = torch.nn.ModuleList(
        [DiscriminatorR(resolution=r, channels=8) for r in RESOLUTIONS]
    ).eval()
    torch.save(discriminators.state_dict(), OUT / "mrd_small.pth")
    length = 4001
    n = np.arange(length, dtype=np.float64)
    x = torch.from_numpy((0.6 * np.sin(0.05 * n) + 0.2 * np.sin(0.31 * n + 1.0)).astype(np.float32))
    x = x.reshape(1, length)
    cases = []
    with torch.no_grad():
        for d in discriminators:
            logits, fmaps = d(x)
            cases.append({
                "logits": logits.reshape(-1).tolist(),
                "feature_shapes": [list(f.shape) for f in fmaps],
                "feature_means": [f.mean().item() for f in fmaps],
                "feature_abs_means": [f.abs().mean().item() for f in fmaps],
            })
    (OUT / "mrd_golden.json").write_text(json.dumps({
        "vocos_version": "0.0.3",
        "torch_version": torch.__version__,
        "input": "0.6*sin(0.05 n) + 0.2*sin(0.31 n + 1), n = 0..4001, shape [1, 4001]",
        "channels": 8,
        "cases": cases,
    }))


if __name__ == "__main__":
    main()
