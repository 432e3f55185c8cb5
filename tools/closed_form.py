"""Closed-form inputs and weights for the fixtures. Weights for the network fixtures (`golden_inception.py`, `golden_vuv.py`): every
tensor is `offset + amplitude · sin(0.37·i + salt)` over its row-major index, in f64 then f32,
with `salt` its position in the state dict. The Rust tests rebuild the tensors from the specs
the fixture lists (`write_formula_tensors` in crates/simvq-metrics/tests/common), so the
multi-megabyte weights never enter the repository.
"""

import math

import numpy as np
import torch


def formula(shape, salt, amplitude, offset=0.0):
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.float64)
    return (offset + amplitude * np.sin(0.37 * i + salt)).astype(np.float32).reshape(shape)


def broadband(n, salt, scale):
    """`scale · sin((0.37 i²) mod 2π + 0.1 i + salt)` for i < n, in f64 (simvq_testkit's
    `broadband_at`): energy in every mel band, where a pure tone leaves bands at the log floor
    and rounding decides the clamp."""
    return [scale * math.sin((0.37 * i * i) % (2 * math.pi) + 0.1 * i + salt) for i in range(n)]


def _amplitude_and_offset(name, tensor):
    """BatchNorm near identity; weights at He scale (activations stay near unit size through
    deep stacks); small biases."""
    module, param = name.rsplit(".", 1)
    is_norm = module.split(".")[-1].lower().endswith("bn")
    if param == "running_var":
        return 0.3, 1.0
    if param == "running_mean" or param == "bias":
        return 0.05, 0.0
    if is_norm:
        return 0.1, 1.0
    return 2.0 / math.sqrt(tensor[0].numel()), 0.0


def set_closed_form(module, skip=lambda name: False):
    """Sets every tensor of `module` (BatchNorm counters and `skip`ped names left alone) and
    returns the `[[name, spec], …]` list the Rust tests rebuild them from."""
    specs = []
    with torch.no_grad():
        for salt, (name, t) in enumerate(module.state_dict().items()):
            if name.endswith("num_batches_tracked") or skip(name):
                continue
            amplitude, offset = _amplitude_and_offset(name, t)
            t.copy_(torch.from_numpy(formula(t.shape, float(salt), amplitude, offset)))
            specs.append([name, {"amplitude": amplitude, "offset": offset, "salt": float(salt),
                                 "shape": list(t.shape)}])
    return specs
