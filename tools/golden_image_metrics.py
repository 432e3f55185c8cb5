#!/usr/bin/env python3
"""Golden values for simvq-metrics' PSNR and SSIM, from scikit-image itself.

Follows the reference's evaluation (SimVQ `evaluation.py`, ../shared/reference/simvq-spec.md
section 4.1): images in [-1, 1] are clamped, mapped to [0, 1], multiplied by 255 and cast to
uint8 (truncation), then divided by 255 (float64). SSIM: `structural_similarity(recon, gt,
data_range=1.0, channel_axis=-1)` per image. PSNR: `peak_signal_noise_ratio` per image, and the
reference's per-batch call on the whole batch array.

Writes crates/simvq-metrics/tests/fixtures/image_metrics_golden.json.
Needs numpy and scikit-image (pip install scikit-image); CI never runs it.
"""
import importlib.metadata
import json
import pathlib

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/simvq-metrics/tests/fixtures/image_metrics_golden.json"


def to_reference_uint8(x):
    """[-1, 1] float32 CHW batch -> the reference's float64 [0, 1] HWC batch."""
    x = np.clip(x, np.float32(-1), np.float32(1))
    x = (x + np.float32(1)) / np.float32(2) * np.float32(255)
    return np.transpose(x.astype(np.uint8), (0, 2, 3, 1)) / 255


def batch_case(name, rng, shape, noise):
    target = np.tanh(rng.standard_normal(shape)).astype(np.float32)
    # A reconstruction: target plus noise, partly out of range to exercise the clamp.
    recon = (target + noise * rng.standard_normal(shape)).astype(np.float32)
    t, r = to_reference_uint8(target), to_reference_uint8(recon)
    return {
        "name": name,
        "shape": list(shape),
        "target": target.ravel().tolist(),
        "recon": recon.ravel().tolist(),
        "ssim": [float(structural_similarity(r[i], t[i], data_range=1.0, channel_axis=-1)) for i in range(shape[0])],
        "psnr": [float(peak_signal_noise_ratio(t[i], r[i])) for i in range(shape[0])],
        "psnr_batch": float(peak_signal_noise_ratio(t, r)),
    }


def main():
    rng = np.random.default_rng(0)
    cases = [
        batch_case("rgb", rng, (3, 3, 16, 20), 0.1),
        batch_case("rgb_noisy", rng, (2, 3, 9, 12), 0.5),
        batch_case("gray_min_size", rng, (2, 1, 7, 7), 0.05),
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "generator": "tools/golden_image_metrics.py",
        "scikit-image": importlib.metadata.version("scikit-image"),
        "cases": cases,
    }))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
