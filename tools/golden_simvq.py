#!/usr/bin/env python3
"""Golden values for simvq-quant, from a line-by-line numpy transcription of the reference.

Reference: youngsheen/SimVQ `taming/modules/vqvae/quantize.py::SimVQ.forward` (legacy: false),
see ../shared/reference/simvq-spec.md section 1. Everything is float32 as in the reference's
fp32 path: E = C @ W.T + b; d = sum(z^2) + sum(E^2) - 2 z @ E.T; k = argmin (first on ties);
loss = beta * mean((zq - z)^2) + mean((zq - z)^2) with the stop-gradients placed as in the
reference. Gradients are derived by hand from that graph (float64, then stored).

Writes crates/simvq-quant/tests/fixtures/simvq_golden.json. Run once: python3 tools/golden_simvq.py
(needs numpy only; torch is deliberately not required so the fixture can be regenerated anywhere).
"""
import json
import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/simvq-quant/tests/fixtures/simvq_golden.json"


def case(name, k, d, shape, beta, legacy, seed):
    rng = np.random.default_rng(seed)
    c = (rng.standard_normal((k, d)) * d ** -0.5).astype(np.float32)  # nn.Embedding, std e_dim^-0.5
    bound = d ** -0.5  # nn.Linear default init
    w = rng.uniform(-bound, bound, (d, d)).astype(np.float32)  # PyTorch layout [out, in]
    b = rng.uniform(-bound, bound, (d,)).astype(np.float32)
    z = rng.standard_normal(shape).astype(np.float32)  # channel-first map [B, D, ...]
    g = rng.standard_normal(shape).astype(np.float32)  # upstream gradient on the STE output

    # forward, as the reference: channel-first -> channels-last -> [N, D]
    zl = np.moveaxis(z, 1, -1)
    zf = zl.reshape(-1, d)
    e = (c @ w.T + b).astype(np.float32)
    dist = (np.sum(zf ** 2, axis=1, keepdims=True) + np.sum(e ** 2, axis=1) - 2 * zf @ e.T).astype(np.float32)
    idx = np.argmin(dist, axis=1)
    zq = e[idx]
    m = zf.size
    mse = np.mean((zq.astype(np.float64) - zf) ** 2)
    w_commit, w_code = (1.0, beta) if legacy else (beta, 1.0)
    commitment = w_commit * mse
    codebook = w_code * mse
    quantized = np.moveaxis(zq.reshape(zl.shape), -1, 1)

    # backward of  total = commitment + codebook + sum(quantized * g)
    gl = np.moveaxis(g, 1, -1).reshape(-1, d).astype(np.float64)
    grad_z = gl + w_commit * 2.0 * (zf - zq) / m  # STE identity + commitment term
    grad_e = np.zeros((k, d))
    np.add.at(grad_e, idx, w_code * 2.0 * (zq - zf) / m)  # codebook term only
    grad_w = grad_e.T @ c  # dE/dW for E = C W^T + b, PyTorch layout [out, in]
    grad_b = grad_e.sum(axis=0)
    grad_z = np.moveaxis(grad_z.reshape(zl.shape), -1, 1)

    # the margin between best and second-best distance: tiny margins would make the
    # comparison fragile, so the fixture records it
    part = np.partition(dist, 1, axis=1)
    margin = float(np.min(part[:, 1] - part[:, 0]))
    return {
        "name": name,
        "codebook_size": k,
        "dim": d,
        "shape": list(shape),
        "beta": beta,
        "legacy": legacy,
        "frozen_codebook": c.ravel().tolist(),
        "weight_out_in": w.ravel().tolist(),
        "bias": b.ravel().tolist(),
        "z": z.ravel().tolist(),
        "upstream_grad": g.ravel().tolist(),
        "effective_codebook": e.ravel().tolist(),
        "indices": idx.reshape(zl.shape[:-1]).ravel().tolist(),
        "quantized": quantized.ravel().tolist(),
        "commitment": commitment,
        "codebook_loss": codebook,
        "grad_z": grad_z.ravel().tolist(),
        "grad_weight_out_in": grad_w.ravel().tolist(),
        "grad_bias": grad_b.ravel().tolist(),
        "min_distance_margin": margin,
    }


def main():
    cases = [
        case("image_map", 64, 8, (2, 8, 3, 4), 0.25, False, 1),
        case("audio_map_legacy", 128, 16, (2, 16, 5), 0.25, True, 2),
        case("flat", 32, 4, (40, 4), 0.25, False, 3),
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"generator": "tools/golden_simvq.py", "cases": cases}))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
