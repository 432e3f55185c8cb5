"""Golden values for LPIPS-VGG (the perceptual loss and a metric) and LPIPS-Alex (a metric)
from the `lpips` package itself.

The real backbones (VGG16 528 MB, AlexNet 233 MB) are downloads these machines cannot make, so every
parameter is set from a closed-form formula that the Rust test reproduces; what is proven is
the network code and the weight-file loading, which is what could be wrong.

Writes crates/simvq-metrics/tests/fixtures/lpips_heads.pth and lpips_alex_heads.pth (the five
linear heads under the keys of lpips' vgg.pth / alex.pth, 6 KB and 5 KB) and lpips_golden.json
(inputs are formulas too).

    python3 -m venv /tmp/vqenv && /tmp/vqenv/bin/pip install torch torchvision lpips
    /tmp/vqenv/bin/python tools/golden_lpips.py
"""

import json
import math
import pathlib

import numpy as np
import torch
import lpips

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/simvq-metrics/tests/fixtures"


def formula(shape, salt, amplitude):
    """amplitude · sin(0.37·i + salt) over the row-major flat index i, computed in f64."""
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.float64)
    return (amplitude * np.sin(0.37 * i + salt)).astype(np.float32).reshape(shape)


HEADS_FILE = {"vgg": "lpips_heads.pth", "alex": "lpips_alex_heads.pth"}


def golden(net, x, y):
    """Sets `net`'s backbone and heads from the formulas and returns its distances."""
    model = lpips.LPIPS(net=net, pretrained=True, pnet_rand=True, verbose=False).eval()
    convs = [m for s in (model.net.slice1, model.net.slice2, model.net.slice3,
                         model.net.slice4, model.net.slice5)
             for m in s if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == {"vgg": 13, "alex": 5}[net]
    for k, conv in enumerate(convs):
        fan_in = conv.weight[0].numel()
        conv.weight.copy_(torch.from_numpy(formula(conv.weight.shape, k, 1.7 / math.sqrt(fan_in))))
        conv.bias.copy_(torch.from_numpy(formula(conv.bias.shape, k + 0.5, 0.05)))
    heads = {}
    for k, lin in enumerate(model.lins):
        w = lin.model[1].weight
        w.copy_(torch.from_numpy(np.abs(formula(w.shape, 20 + k, 0.1))))
        heads[f"lin{k}.model.1.weight"] = w.detach().clone()
    torch.save(heads, OUT / HEADS_FILE[net])
    return {
        "lpips": model(x, y).reshape(-1).tolist(),
        "lpips_self": model(x, x).reshape(-1).tolist(),
    }


def main():
    torch.set_grad_enabled(False)
    # 64² so that AlexNet's stride-4 stem and three pools leave a 3×3 map.
    x = torch.from_numpy(formula((2, 3, 64, 64), 100.0, 0.9))
    y = torch.from_numpy(formula((2, 3, 64, 64), 200.0, 0.8))
    result = {net: golden(net, x, y) for net in ("vgg", "alex")}
    (OUT / "lpips_golden.json").write_text(json.dumps({
        "lpips_version": lpips.__version__ if hasattr(lpips, "__version__") else "0.1.4",
        "torch_version": torch.__version__,
        "formula": "amplitude * sin(0.37 * flat_index + salt), f64 then f32",
        "conv_amplitude": "1.7 / sqrt(fan_in), salt = conv index; bias 0.05, salt + 0.5",
        "head_amplitude": "abs(0.1 * ...), salt 20 + head",
        "x": {"shape": [2, 3, 64, 64], "salt": 100.0, "amplitude": 0.9},
        "y": {"shape": [2, 3, 64, 64], "salt": 200.0, "amplitude": 0.8},
        **result,
    }, indent=1))
    print({net: r["lpips"] for net, r in result.items()})


if __name__ == "__main__":
    main()
