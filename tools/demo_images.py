"""Rebuilds crates/simvq-data/demo/images/ from the photos in scikit-image's wheel (see its
LICENSE.md): shorter side 256 px (Lanczos), JPEG quality 90. Needs `pip install scikit-image pillow`."""

import pathlib

import skimage
from PIL import Image

SRC = pathlib.Path(skimage.__file__).parent / "data"
OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/simvq-data/demo/images"
PHOTOS = {
    "astronaut": "astronaut.png",
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    "rocket": "rocket.jpg",
    "hubble_deep_field": "hubble_deep_field.jpg",
    "retina": "retina.jpg",
    "brick": "brick.png",
}

for name, file in PHOTOS.items():
    image = Image.open(SRC / file)
    w, h = image.size
    s = 256 / min(w, h)
    image = image.resize((round(w * s), round(h * s)), Image.LANCZOS)
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.save(OUT / f"{name}.jpg", quality=90)
