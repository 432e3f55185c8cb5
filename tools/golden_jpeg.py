"""JPEG decoding fixtures for crates/simvq-data/tests/pil_parity.rs: one photo of the built-in
data saved by Pillow as the JPEG kinds datasets hold (baseline 4:2:0, 4:2:2 and 4:4:4,
progressive, grayscale, and 4:2:0 with an EXIF orientation tag), each with what Pillow
(libjpeg-turbo) decodes from it, `Image.open(f).convert("RGB")` as torchvision's ImageFolder
loads it (no EXIF transpose), stored losslessly as PNG.

The photo is cropped to 61 × 47 so both sides end on partial 8×8 and 16×16 blocks, where
chroma upsampling differs most between decoders.

    pip install pillow==13.0.0 numpy
    python tools/golden_jpeg.py
"""

import pathlib

from PIL import Image, features

ROOT = pathlib.Path(__file__).resolve().parent.parent
PHOTO = ROOT / "crates/simvq-data/demo/images/val"
OUT = ROOT / "crates/simvq-data/tests/fixtures/jpeg"

# name: (mode, Pillow save options)
KINDS = {
    "baseline_420": ("RGB", {"quality": 90, "subsampling": 2}),
    "baseline_422": ("RGB", {"quality": 90, "subsampling": 1}),
    "baseline_444": ("RGB", {"quality": 90, "subsampling": 0}),
    "progressive_420": ("RGB", {"quality": 85, "subsampling": 2, "progressive": True}),
    "grayscale": ("L", {"quality": 90}),
    "exif_rotated_420": ("RGB", {"quality": 90, "subsampling": 2, "exif": None}),
}


def exif_rotated():
    """EXIF bytes with Orientation 6 (rotate 90° clockwise to display)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return exif.tobytes()


def main():
    print("libjpeg-turbo", features.version("libjpeg_turbo"))
    source = sorted(PHOTO.glob("*.jpg"))[0]
    photo = Image.open(source).convert("RGB").crop((1, 2, 62, 49))
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (mode, options) in KINDS.items():
        options = dict(options)
        if "exif" in options:
            options["exif"] = exif_rotated()
        path = OUT / f"{name}.jpg"
        photo.convert(mode).save(path, **options)
        Image.open(path).convert("RGB").save(OUT / f"{name}.pil.png")
    (OUT / "SOURCE").write_text(
        f"Cropped (1, 2, 62, 49) from crates/simvq-data/demo/images/val/{source.name} "
        f"(licence in its manifest.tsv); written by tools/golden_jpeg.py with Pillow 13.0.0.\n"
    )


if __name__ == "__main__":
    main()
