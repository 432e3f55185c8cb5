"""The Lightning 2.2 checkpoint layout of the reference's models, for the importer's fixtures
(`golden_import_image.py`, `golden_import_audio.py`).

`state_dict` holds the raw weights, `model_ema.decay`, `model_ema.num_updates` and the EMA
weights under `model_ema.<name without dots>` (parameters only: buffers are skipped), plus a
training-only key the importer must ignore; beside it the loops, callbacks and integer-keyed
optimizer states a real checkpoint carries. Raw tensors share storage with their EMA copies
(torch.save writes a shared storage once, keeping the fixture small) except those whose names
start with one of `distinct`, so a test can still tell which set was loaded.
"""

import collections

import torch


def save_lightning_checkpoint(path, raw, ema, distinct, ignored_key, ignored_tensor):
    ema_state = ema.state_dict()
    buffers = {name for name, _ in ema.named_buffers()}
    state = collections.OrderedDict()
    for name, t in raw.state_dict().items():
        state[name] = t.clone() if name.startswith(distinct) else ema_state[name]
    state[ignored_key] = ignored_tensor
    state["model_ema.decay"] = torch.tensor(0.999)
    state["model_ema.num_updates"] = torch.tensor(-1, dtype=torch.int)
    for name, t in ema_state.items():
        if name not in buffers:
            state["model_ema." + name.replace(".", "")] = t
    torch.save({
        "epoch": 0,
        "global_step": 12,
        "pytorch-lightning_version": "2.2.0",
        "state_dict": state,
        "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {"total": {"ready": 1}}}},
        "callbacks": {"ModelCheckpoint{'monitor': None}": {"best_model_path": ""}},
        # Integer-keyed like a real optimizer state. (Two entries: burn-store 0.21's pickle
        # reader refuses a dict with a single integer key, which pickle writes with SETITEM.)
        "optimizer_states": [{"state": {0: {"step": torch.tensor(12.0)},
                                        1: {"step": torch.tensor(12.0)}},
                              "param_groups": [{"lr": 1e-4, "betas": (0.5, 0.9),
                                                "params": [0, 1]}]}],
        "lr_schedulers": [],
    }, path)
