"""Golden values for simvq-audio's causal SEANet encoder, from EnCodec's own `SEANetEncoder`
(the module the reference uses): weight-normalised convs, causal reflect padding with the
extra right padding, ELU, 1×1-conv shortcuts. Small widths, no LSTM (its gate layout is the
importer's business), and several lengths including ones shorter than the padding.

Writes crates/simvq-audio/tests/fixtures/seanet_small.pth (the module's state dict, random
weights) and seanet_golden.json. Needs `pip install torch encodec` (encodec's package
__init__ imports torchaudio, so only its modules are loaded).

    /tmp/vqenv/bin/python tools/golden_seanet.py
"""

import importlib
import json
import pathlib
import sys
import types

import numpy as np
import torch

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/simvq-audio/tests/fixtures"


def seanet_encoder_class():
    spec = importlib.util.find_spec("encodec")
    package = types.ModuleType("encodec")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["encodec"] = package
    return importlib.import_module("encodec.modules.seanet").SEANetEncoder


def main():
    torch.manual_seed(0)
    SEANetEncoder = seanet_encoder_class()
    model = SEANetEncoder(channels=1, dimension=16, n_filters=4, ratios=[4, 2], causal=True,
                          pad_mode="reflect", lstm=0, true_skip=False).eval()
    # Move g away from ‖v‖ so the test sees the weight-norm formula, not just v.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("weight_g"):
                p.mul_(torch.linspace(0.5, 1.5, p.numel()).reshape(p.shape))
    torch.save(model.state_dict(), OUT / "seanet_small.pth")
    cases = []
    with torch.no_grad():
        for length in [1, 5, 8, 37]:
            x = torch.from_numpy(
                (0.8 * np.sin(0.37 * np.arange(length) + length)).astype(np.float32)
            ).reshape(1, 1, length)
            y = model(x)
            cases.append({"length": length, "shape": list(y.shape), "output": y.reshape(-1).tolist()})
    (OUT / "seanet_golden.json").write_text(json.dumps({
        "torch_version": torch.__version__,
        "config": "channels 1, dimension 16, n_filters 4, ratios [4, 2], causal, reflect, lstm 0",
        "input": "0.8 * sin(0.37 * n + length), n = 0..length",
        "cases": cases,
    }))


if __name__ == "__main__":
    main()
