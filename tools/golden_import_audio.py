"""A tiny Lightning-style checkpoint of the reference's audio codec, and its outputs, for the
importer's test (crates/simvq-cli/tests/import.rs).

The modules are the reference's own where a package ships them — EnCodec's `SEANetEncoder`
(causal, reflect padding, weight norm, 2-layer LSTM with skip: keys `encoder.model.N…`), Vocos
0.0.3's `ConvNeXtBlock` and `ISTFTHead` — and written from ../shared/reference/simvq-spec.md §3.3
where none does: WavTokenizer's `pos_net` (ResnetBlock, AttnBlock, GroupNorm) inside the Vocos
backbone. SimVQ as in the image fixture. The checkpoint is laid out as Lightning saves it
(tools/lightning_fixture.py): raw
weights, EMA weights under `model_ema.<name without dots>`, a discriminator key to ignore,
integer-keyed optimizer states.

Small widths (SEANet 4 filters → 16-d codes, backbone 64 wide × 2 ConvNeXt blocks, K 64; the
reference's strides 2·4·5·8 = 320 and n_fft 1280). The codebook is drawn from encoder latents
of varied signals so the test signals use several codes. Raw and EMA share storage (keeping
the file under 1 MB) except the quantizer's W and b and the head's bias, so the test still
tells which set was loaded. The backbone is 64 wide, not 32, so that each of the 32 GroupNorm
groups holds two channels: with one channel per group every norm removes per-channel constants,
and the pos_net's biases would get gradients that are zero in exact arithmetic (which a
training-step comparison cannot check; tools/golden_audio_step.py steps this codec).

Writes crates/simvq-cli/tests/fixtures/audio_ckpt.ckpt and audio_ckpt.json.

    /tmp/aenv/bin/python tools/golden_import_audio.py   # torch 2.15, encodec 0.1.1, vocos 0.0.3
"""

import importlib
import json
import pathlib
import sys
import types

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning_fixture import save_lightning_checkpoint
from package_stub import package_module

ISTFTHead = package_module("vocos", "heads").ISTFTHead
ConvNeXtBlock = package_module("vocos", "modules").ConvNeXtBlock

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/simvq-cli/tests/fixtures"
FILTERS, D, DIM, INTERMEDIATE, LAYERS, K = 4, 16, 64, 128, 2, 64


def seanet_encoder_class():
    """EnCodec's SEANetEncoder without the package __init__ (which imports torchaudio)."""
    if "encodec.modules.seanet" in sys.modules:
        return sys.modules["encodec.modules.seanet"].SEANetEncoder
    spec = importlib.util.find_spec("encodec")
    package = types.ModuleType("encodec")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["encodec"] = package
    return importlib.import_module("encodec.modules.seanet").SEANetEncoder


def norm(c):
    return nn.GroupNorm(32, c, eps=1e-6, affine=True)


class ResnetBlock(nn.Module):
    """WavTokenizer's ResnetBlock(in = out, no temb): GN → swish → conv k3 → GN → swish →
    dropout → conv k3 → + x."""

    def __init__(self, c):
        super().__init__()
        self.norm1, self.conv1 = norm(c), nn.Conv1d(c, c, 3, padding=1)
        self.norm2, self.dropout = norm(c), nn.Dropout(0.1)
        self.conv2 = nn.Conv1d(c, c, 3, padding=1)

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return x + h


class AttnBlock(nn.Module):
    """WavTokenizer's AttnBlock: single-head attention over all frames with 1×1 convs."""

    def __init__(self, c):
        super().__init__()
        self.norm = norm(c)
        self.q, self.k, self.v = (nn.Conv1d(c, c, 1) for _ in range(3))
        self.proj_out = nn.Conv1d(c, c, 1)

    def forward(self, x):
        h = self.norm(x)
        q, k, v = self.q(h), self.k(h), self.v(h)
        b, c, t = q.shape
        w = torch.bmm(q.permute(0, 2, 1), k) * (int(c) ** -0.5)
        w = torch.softmax(w, dim=2).permute(0, 2, 1)
        return x + self.proj_out(torch.bmm(v, w))


class Backbone(nn.Module):
    """WavTokenizer's VocosBackbone (adanorm off)."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Conv1d(D, DIM, 7, padding=3)
        self.pos_net = nn.Sequential(ResnetBlock(DIM), ResnetBlock(DIM), AttnBlock(DIM),
                                     ResnetBlock(DIM), ResnetBlock(DIM), norm(DIM))
        self.norm = nn.LayerNorm(DIM, eps=1e-6)
        self.convnext = nn.ModuleList(
            [ConvNeXtBlock(DIM, INTERMEDIATE, layer_scale_init_value=1 / LAYERS)
             for _ in range(LAYERS)])
        self.final_layer_norm = nn.LayerNorm(DIM, eps=1e-6)

    def forward(self, x):
        x = self.pos_net(self.embed(x))
        x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        for block in self.convnext:
            x = block(x)
        return self.final_layer_norm(x.transpose(1, 2))


class SimVQ(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(K, D)
        self.embedding_proj = nn.Linear(D, D)

    def forward(self, z):
        b, d, t = z.shape
        flat = z.permute(0, 2, 1).reshape(-1, d)
        codes = self.embedding_proj(self.embedding.weight)
        dist = (flat ** 2).sum(1, keepdim=True) + (codes ** 2).sum(1) - 2 * flat @ codes.t()
        idx = dist.argmin(1)
        return codes[idx].view(b, t, d).permute(0, 2, 1), idx.view(b, t)


class VQAudio(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = seanet_encoder_class()(
            channels=1, dimension=D, n_filters=FILTERS, ratios=[8, 5, 4, 2], causal=True,
            pad_mode="reflect", lstm=2, true_skip=False)
        self.backbone = Backbone()
        self.head = ISTFTHead(DIM, 1280, 320, padding="same")
        self.quantize = SimVQ()

    def forward(self, wave):
        zq, idx = self.quantize(self.encoder(wave.unsqueeze(1)))
        return self.head(self.backbone(zq)), idx


def main():
    torch.manual_seed(0)
    torch.set_grad_enabled(False)
    ema = VQAudio().eval()
    for name, p in ema.named_parameters():
        if name.endswith("weight_g"):  # g away from ‖v‖, so folding is exercised
            p.mul_(torch.empty_like(p).uniform_(0.7, 1.3))
        if isinstance(p, torch.Tensor) and "norm" in name and name.endswith("weight"):
            p.uniform_(0.7, 1.3)
    # Codes near the latents of varied signals, so that the test inputs use several codes (a
    # fresh SEANet's frames are nearly alike and would all land on one random code).
    g = torch.Generator().manual_seed(2)
    probe = torch.randn(8, 2560, generator=g).cumsum(1) * 0.02
    latents = ema.encoder(probe.unsqueeze(1)).permute(0, 2, 1).reshape(-1, D)
    ema.quantize.embedding_proj.weight.copy_(torch.eye(D) + 0.01 * torch.randn(D, D, generator=g))
    ema.quantize.embedding_proj.bias.zero_()
    ema.quantize.embedding.weight.copy_(latents[torch.randperm(len(latents), generator=g)[:K]])
    raw = VQAudio().eval()
    raw.load_state_dict(ema.state_dict())
    for p in (raw.quantize.embedding_proj.weight, raw.quantize.embedding_proj.bias,
              raw.head.out.bias):
        p.add_(0.002 * torch.randn_like(p))

    OUT.mkdir(parents=True, exist_ok=True)
    save_lightning_checkpoint(
        OUT / "audio_ckpt.ckpt", raw, ema, ("quantize.embedding_proj.", "head.out.bias"),
        "loss.dac.discriminators.0.convs.0.0.weight_g", torch.ones(4, 1, 1, 1))

    g = torch.Generator().manual_seed(1)
    t = torch.arange(2500) / 24000.0
    wave = torch.stack([0.5 * torch.sin(2 * torch.pi * 220 * t),
                        0.3 * torch.sin(2 * torch.pi * 330 * t) + 0.05 * torch.randn(2500, generator=g)])
    recon, idx = ema(wave)
    recon_raw, idx_raw = raw(wave)
    (OUT / "audio_ckpt.json").write_text(json.dumps({
        "torch_version": torch.__version__,
        "input": [float(f"{v:.9g}") for v in wave.flatten().tolist()],
        "ema": {"indices": idx.flatten().tolist(),
                "reconstruction": [float(f"{v:.7g}") for v in recon.flatten().tolist()]},
        "raw": {"indices": idx_raw.flatten().tolist(),
                "reconstruction": [float(f"{v:.7g}") for v in recon_raw.flatten().tolist()]},
    }))
    size = (OUT / "audio_ckpt.ckpt").stat().st_size
    print("ckpt bytes", size, "frames", idx.shape, "unique", idx.unique().numel(),
          "ema/raw index differences", int((idx != idx_raw).sum()), "recon", recon.shape,
          float(recon.abs().max()))


if __name__ == "__main__":
    main()
