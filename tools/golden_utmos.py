"""A tiny UTMOS22 strong learner (the reference's metrics/UTMOS.py, the UTMOS demo's
`BaselineLightningModule`) with closed-form weights, saved as the demo's Lightning checkpoint
lays it out, and its outputs, for crates/simvq-metrics/tests/utmos.rs.

The SSL part is transformers' `Wav2Vec2Model` configured as fairseq's wav2vec 2.0 base
(`wav2vec_small.pt`: group-norm feature encoder without conv biases, post-LN transformer, the
weight-normed grouped positional conv of kernel 128) at small widths; its weights are saved
under fairseq's names (what the UTMOS checkpoint holds under `feature_extractors.0.ssl_model.`).
The head is the demo's code: `DomainEmbedding`, `LDConditioner` (judge embedding, BLSTM over
[SSL features, domain, judge]) and `Projection` (Linear, ReLU, Dropout, Linear); the score is
`2 · mean_t + 3` with domain 0 and judge 288, as `UTMOSScore.score`.

Small widths: conv 16 channels with base's kernels and strides, hidden 48 in 12 heads (as base), FFN 64, 2
layers, positional conv 128 wide in 16 groups; domain and judge embeddings 8 wide (300 judges);
BLSTM hidden 16; projection hidden 64. Input: 1 s and 0.6 s of 16 kHz closed-form signals.

    pip install torch transformers numpy   # torch 2.15, transformers 5.x
    python tools/golden_utmos.py
    python tools/golden_utmos.py --full /tmp/utmos_base.ckpt   # the real widths, for timing

`--full` writes a checkpoint of the real model's shapes (wav2vec 2.0 base: conv 512, hidden 768,
12 layers of 12 heads, FFN 3072; embeddings 128 wide, 3000 judges; BLSTM 512; projection 2048)
with closed-form weights, for `cargo xtask bench metrics --utmos` (the cost does not depend on
the weights' values).
"""

import json
import math
import pathlib
import sys

import torch
import torch.nn as nn
from transformers import Wav2Vec2Config, Wav2Vec2Model

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "crates/simvq-metrics/tests/fixtures"
CONV, HIDDEN, HEADS, FFN, LAYERS = 16, 48, 12, 64, 2
EMB, JUDGES, LSTM_HIDDEN, PROJ = 8, 300, 16, 64


def closed_form(shape, salt, amplitude, offset=0.0):
    n = math.prod(shape)
    i = torch.arange(n, dtype=torch.float64)
    return (offset + amplitude * torch.sin(0.37 * i + salt)).float().reshape(shape)


def ssl_model():
    config = Wav2Vec2Config(
        hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS, intermediate_size=FFN,
        conv_dim=[CONV] * 7, conv_kernel=[10, 3, 3, 3, 3, 2, 2], conv_stride=[5, 2, 2, 2, 2, 2, 2],
        conv_bias=False, feat_extract_norm="group", feat_extract_activation="gelu", hidden_act="gelu",
        do_stable_layer_norm=False, num_conv_pos_embeddings=128, num_conv_pos_embedding_groups=16,
        layer_norm_eps=1e-5, apply_spec_augment=False, hidden_dropout=0.0, attention_dropout=0.0,
        activation_dropout=0.0, feat_proj_dropout=0.0, layerdrop=0.0,
    )
    return Wav2Vec2Model(config)


def fairseq_names():
    """fairseq's wav2vec 2.0 key → transformers' key (the mapping of transformers'
    convert_wav2vec2_original_pytorch_checkpoint_to_pytorch.py)."""
    names = {"feature_extractor.conv_layers.0.2.weight": "feature_extractor.conv_layers.0.layer_norm.weight",
             "feature_extractor.conv_layers.0.2.bias": "feature_extractor.conv_layers.0.layer_norm.bias",
             "layer_norm.weight": "feature_projection.layer_norm.weight",
             "layer_norm.bias": "feature_projection.layer_norm.bias",
             "post_extract_proj.weight": "feature_projection.projection.weight",
             "post_extract_proj.bias": "feature_projection.projection.bias",
             "encoder.pos_conv.0.bias": "encoder.pos_conv_embed.conv.bias",
             "encoder.pos_conv.0.weight_g": "encoder.pos_conv_embed.conv.parametrizations.weight.original0",
             "encoder.pos_conv.0.weight_v": "encoder.pos_conv_embed.conv.parametrizations.weight.original1",
             "encoder.layer_norm.weight": "encoder.layer_norm.weight",
             "encoder.layer_norm.bias": "encoder.layer_norm.bias"}
    for i in range(7):
        names[f"feature_extractor.conv_layers.{i}.0.weight"] = f"feature_extractor.conv_layers.{i}.conv.weight"
    for l in range(LAYERS):
        ours, theirs = f"encoder.layers.{l}.", f"encoder.layers.{l}."
        for p in ("weight", "bias"):
            for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
                names[f"{ours}self_attn.{proj}.{p}"] = f"{theirs}attention.{proj}.{p}"
            names[f"{ours}self_attn_layer_norm.{p}"] = f"{theirs}layer_norm.{p}"
            names[f"{ours}fc1.{p}"] = f"{theirs}feed_forward.intermediate_dense.{p}"
            names[f"{ours}fc2.{p}"] = f"{theirs}feed_forward.output_dense.{p}"
            names[f"{ours}final_layer_norm.{p}"] = f"{theirs}final_layer_norm.{p}"
    return names


class Head(nn.Module):
    """The demo's DomainEmbedding, LDConditioner and Projection, with their module names."""

    def __init__(self):
        super().__init__()
        self.domain = nn.Embedding(3, EMB)
        self.judge_embedding = nn.Embedding(JUDGES, EMB)
        self.decoder_rnn = nn.LSTM(input_size=HIDDEN + 2 * EMB, hidden_size=LSTM_HIDDEN, num_layers=1,
                                   batch_first=True, bidirectional=True)
        self.net = nn.Sequential(nn.Linear(2 * LSTM_HIDDEN, PROJ), nn.ReLU(), nn.Dropout(0.3), nn.Linear(PROJ, 1))

    def forward(self, ssl):
        b, t, _ = ssl.shape
        domain = self.domain(torch.zeros(b, dtype=torch.long)).unsqueeze(1).expand(-1, t, -1)
        judge = self.judge_embedding(torch.full((b,), 288, dtype=torch.long)).unsqueeze(1).expand(-1, t, -1)
        out, _ = self.decoder_rnn(torch.cat((ssl, domain, judge), dim=2))
        return self.net(out)


def amplitude(name, shape):
    if "norm" in name and name.endswith("weight"):
        return 0.1, 1.0
    if name.endswith("bias") or name.endswith("weight_g"):
        return 0.05, (1.0 if name.endswith("weight_g") else 0.0)
    fan_in = math.prod(shape[1:]) if len(shape) > 1 else shape[0]
    return 1.5 / math.sqrt(fan_in), 0.0


def use_full_widths():
    global CONV, HIDDEN, HEADS, FFN, LAYERS, EMB, JUDGES, LSTM_HIDDEN, PROJ
    CONV, HIDDEN, HEADS, FFN, LAYERS = 512, 768, 12, 3072, 12
    EMB, JUDGES, LSTM_HIDDEN, PROJ = 128, 3000, 512, 2048


def main():
    full = sys.argv[2] if len(sys.argv) == 3 and sys.argv[1] == "--full" else None
    if full:
        use_full_widths()
    torch.manual_seed(0)
    ssl = ssl_model().eval()
    head = Head().eval()
    hf = dict(ssl.named_parameters())
    state = {}
    salt = 0
    with torch.no_grad():
        for fairseq, theirs in fairseq_names().items():
            shape = list(hf[theirs].shape)
            amp, off = amplitude(fairseq, shape)
            value = closed_form(shape, float(salt), amp, off)
            hf[theirs].copy_(value)
            state[f"feature_extractors.0.ssl_model.{fairseq}"] = value.clone()
            salt += 1
        head_names = {"domain.weight": "feature_extractors.1.embedding.weight"}
        for name, p in head.named_parameters():
            amp, off = amplitude(name, list(p.shape))
            p.copy_(closed_form(list(p.shape), float(salt), amp, off))
            salt += 1
            key = head_names.get(name) or (f"output_layers.0.{name}" if not name.startswith("net.") else f"output_layers.1.{name}")
            state[key] = p.detach().clone()
    state["feature_extractors.0.ssl_model.mask_emb"] = torch.zeros(HIDDEN)  # present in the real file, unused
    if full:
        torch.save({"state_dict": state}, full)
        print("wrote", full)
        return

    cases = []
    for seconds, salt in ((1.0, 0.3), (0.6, 1.7)):
        n = int(16000 * seconds)
        i = torch.arange(n, dtype=torch.float64)
        wav = (0.3 * torch.sin(2 * math.pi * 220 * i / 16000 + salt)
               + 0.1 * torch.sin((0.37 * i * i) % (2 * math.pi))).float()
        with torch.no_grad():
            features = ssl(wav[None]).last_hidden_state
            frames = head(features)
        score = (frames.mean(dim=1).squeeze(1) * 2 + 3).item()
        cases.append({"seconds": seconds, "salt": salt, "frames": features.shape[1],
                      "features_head": features[0, :3].flatten().tolist(),
                      "features_mean": features.mean().item(), "features_abs_mean": features.abs().mean().item(),
                      "frame_scores": frames.flatten().tolist(), "score": score})
        print(seconds, "s:", features.shape, "score", score)
    OUT.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": state, "hyper_parameters": {"note": "tiny closed-form fixture"}}, OUT / "utmos_tiny.ckpt")
    (OUT / "utmos_golden.json").write_text(json.dumps({
        "heads": HEADS, "judge": 288, "domain": 0, "cases": cases,
    }))
    print("ckpt bytes", (OUT / "utmos_tiny.ckpt").stat().st_size)


if __name__ == "__main__":
    main()
