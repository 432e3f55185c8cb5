"""Golden values for rFID's feature extractor: pytorch-fid 0.3.0's InceptionV3 itself.

The FID weights (pt_inception-2015-12-05-6726825d.pth, 91 MB) are a download these machines
cannot make, and too big for the repository, so every tensor is set from a closed-form formula
that the Rust test reproduces from the list written here (name, shape, formula parameters): it
writes those tensors to a safetensors file under pytorch-fid's key names and loads it through
`FidInception::load`. What is proven is the network code (pytorch-fid's FID patches included),
the 299² bilinear resize and the weight loading — what could be wrong.

Writes crates/simvq-metrics/tests/fixtures/inception_golden.json.

    /tmp/vqenv/bin/pip install torch torchvision && /tmp/vqenv/bin/pip install --no-deps pytorch-fid==0.3.0
    /tmp/vqenv/bin/python tools/golden_inception.py
"""

import json
import pathlib

import torch
from pytorch_fid import inception as pfid

from closed_form import formula, set_closed_form

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/simvq-metrics/tests/fixtures"


def fid_inception_without_download():
    """pytorch-fid's `fid_inception_v3` minus the weight download."""
    net = pfid._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    net.Mixed_5b = pfid.FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = pfid.FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = pfid.FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = pfid.FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = pfid.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = pfid.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = pfid.FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = pfid.FIDInceptionE_1(1280)
    net.Mixed_7c = pfid.FIDInceptionE_2(2048)
    return net


def main():
    torch.set_grad_enabled(False)
    net = fid_inception_without_download()
    # The classifier (fc.*) is not read by the feature extractor.
    tensors = set_closed_form(net, skip=lambda name: name.startswith("fc."))
    # The wrapper the reference evaluates with, around exactly these weights.
    pfid.fid_inception_v3 = lambda: net
    model = pfid.InceptionV3([pfid.InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval()
    images = {"shape": [2, 3, 40, 48], "salt": 7.0, "amplitude": 0.45, "offset": 0.5}
    x = torch.from_numpy(formula(images["shape"], images["salt"], images["amplitude"], images["offset"]))
    features = model(x)[0].reshape(2, -1)
    print("features", tuple(features.shape), "mean", float(features.mean()), "std",
          float(features.std()), "positive", float((features > 0).float().mean()))
    (OUT / "inception_golden.json").write_text(json.dumps({
        "pytorch_fid_version": "0.3.0",
        "torch_version": torch.__version__,
        "formula": "offset + amplitude * sin(0.37 * flat_index + salt), f64 then f32",
        "tensors": tensors,
        "images": images,
        "features": [[float(f"{v:.7g}") for v in row] for row in features.tolist()],
    }))


if __name__ == "__main__":
    main()
