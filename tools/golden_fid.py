#!/usr/bin/env python3
"""Golden values for simvq-metrics' Fréchet distance, computed as pytorch-fid does.

pytorch-fid (`fid_score.py`): mu = mean(act, axis=0), sigma = np.cov(act, rowvar=False);
FID = |mu1 - mu2|^2 + tr(sigma1) + tr(sigma2) - 2 tr(sqrtm(sigma1 @ sigma2)) with
scipy.linalg.sqrtm (the eps*I retry and the imaginary-part check included). The activations
here are small synthetic features (InceptionV3 weights are a download this machine cannot make);
they test the statistics and the distance, which are independent of the network.

Writes crates/simvq-metrics/tests/fixtures/fid_golden.json. Needs numpy and scipy.
"""
import importlib.metadata
import json
import pathlib

import numpy as np
from scipy import linalg

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/simvq-metrics/tests/fixtures/fid_golden.json"


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """pytorch-fid's calculate_frechet_distance, verbatim in behaviour."""
    diff = mu1 - mu2
    covmean = linalg.sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError("imaginary component")
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def case(name, rng, n1, n2, dim, shift, scale):
    mix = rng.standard_normal((dim, dim)) / np.sqrt(dim)
    a = (rng.standard_normal((n1, dim)) @ mix).astype(np.float32)
    b = (rng.standard_normal((n2, dim)) @ (mix * scale) + shift).astype(np.float32)
    stats = []
    for act in (a, b):
        act64 = act.astype(np.float64)
        stats.append((np.mean(act64, axis=0), np.cov(act64, rowvar=False)))
    return {
        "name": name,
        "dim": dim,
        "a": a.ravel().tolist(),
        "b": b.ravel().tolist(),
        "mu_a": stats[0][0].tolist(),
        "sigma_a_diag": np.diagonal(stats[0][1]).tolist(),
        "fid": frechet_distance(stats[0][0], stats[0][1], stats[1][0], stats[1][1]),
    }


def main():
    rng = np.random.default_rng(0)
    cases = [
        case("close", rng, 200, 150, 16, 0.05, 1.0),
        case("far", rng, 200, 200, 12, 0.8, 1.7),
        case("same_distribution", rng, 250, 250, 8, 0.0, 1.0),
        # Fewer features than dimensions on one side (rank-deficient covariance), as in a
        # small evaluation: the Rust side takes its low-rank path there.
        case("fewer_than_dims", rng, 10, 60, 24, 0.3, 1.2),
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "generator": "tools/golden_fid.py",
        "scipy": importlib.metadata.version("scipy"),
        "cases": cases,
    }))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
    for c in cases:
        print(c["name"], c["fid"])


if __name__ == "__main__":
    main()
