"""Golden values for simvq-data's image preprocessing: torchvision Resize + CenterCrop on PIL
images (Pillow's fixed-point antialiased bilinear), as the reference's data pipeline runs it.

Input images come from a formula the Rust test repeats. Run with Pillow 10.4 (the
reference's era, always horizontal pass first): Pillow 13 sometimes runs the vertical pass
first, which moves some bytes by 1. Also writes a tiny CMYK JPEG, a format the decoder must
convert. Needs `pip install torch torchvision "pillow==10.4.0"`.

    /tmp/vqenv/bin/python tools/golden_image_preprocessing.py
"""

import json
import pathlib

import numpy as np
import PIL
import torchvision
from PIL import Image
from torchvision import transforms

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/simvq-data/tests/fixtures"


def pattern(width, height):
    """uint8 RGB: (7x + 13y + 50c + 5·((x·y) mod 17)) mod 256."""
    y, x, c = np.meshgrid(np.arange(height), np.arange(width), np.arange(3), indexing="ij")
    return ((7 * x + 13 * y + 50 * c + 5 * ((x * y) % 17)) % 256).astype(np.uint8)


def main():
    cases = []
    for (w, h, size) in [(50, 37, 16), (23, 61, 16), (11, 9, 16), (90, 60, 32), (40, 40, 24)]:
        image = Image.fromarray(pattern(w, h), "RGB")
        resized = transforms.Resize(size)(image)
        cropped = transforms.CenterCrop(size)(resized)
        cases.append({
            "width": w, "height": h, "size": size,
            "resized_dims": list(resized.size),
            "resized": np.asarray(resized).reshape(-1).tolist(),
            "center_crop": np.asarray(cropped).reshape(-1).tolist(),
        })
    (OUT / "pil_resize.json").write_text(json.dumps({
        "pillow_version": PIL.__version__,
        "torchvision_version": torchvision.__version__,
        "pattern": "(7x + 13y + 50c + 5*((x*y) % 17)) % 256, HWC uint8",
        "cases": cases,
    }))
    cmyk = Image.fromarray(pattern(8, 8), "RGB").convert("CMYK")
    cmyk.save(OUT / "cmyk.jpg", quality=95)
    rgb = np.asarray(Image.open(OUT / "cmyk.jpg").convert("RGB"))
    (OUT / "cmyk_as_rgb.json").write_text(json.dumps({"rgb": rgb.reshape(-1).tolist()}))


if __name__ == "__main__":
    main()
