"""A tiny Lightning-style checkpoint of the reference's image tokenizer, and its outputs, for the
importer's test (crates/simvq-cli/tests/import.rs).

The network is written here from ../shared/reference/simvq-spec.md §2.1 with the reference's
module names (`taming/models/vq.py::VQModel` with `improved_model.py`'s Encoder/Decoder):
GroupNorm(32, eps 1e-6) → swish → bias-free 3×3 convs, `num_res_blocks` middle blocks (as
Open-MAGVIT2's `range(self.num_res_blocks)`), bias-free 1×1 `nin_shortcut`,
stride-2 downsample with bias, Upsampler = conv c→4c + DCR depth-to-space, SimVQ with
`quantize.embedding` (frozen C) and `quantize.embedding_proj` (W, b). The checkpoint is laid out
(tools/lightning_fixture.py)
as Lightning 2.2 saves it: `state_dict` with the raw weights, `model_ema.decay`,
`model_ema.num_updates` and the EMA weights under `model_ema.<name without dots>`, a
discriminator key the importer must ignore, optimizer states, loops and callbacks.

Small widths (ch 32, ch_mult [1, 1], one block per level, z 8, K 32, 16×16 images). To keep the
file under 1 MB the raw convolution weights share storage with their EMA copies (torch.save
writes a shared storage once); the quantizer's W and b and the decoder's conv_out differ
between raw and EMA, so the test still tells which set was loaded.

Writes crates/simvq-cli/tests/fixtures/image_ckpt.ckpt and image_ckpt.json.

    /tmp/vqenv/bin/python tools/golden_import_image.py
"""

import json
import pathlib

import torch
import torch.nn as nn
import torch.nn.functional as F

from lightning_fixture import save_lightning_checkpoint

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/simvq-cli/tests/fixtures"
CH, CH_MULT, BLOCKS, Z, K = 32, (1, 1), 1, 8, 32


def norm(c):
    return nn.GroupNorm(32, c, eps=1e-6)


class ResBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1, self.conv1 = norm(cin), nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.norm2, self.conv2 = norm(cout), nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return h + (self.nin_shortcut(x) if hasattr(self, "nin_shortcut") else x)


def depth_to_space_dcr(x, r=2):
    """out[n, c, r·h + i, r·w + j] = in[n, (i·r + j)·C + c, h, w]."""
    n, c4, h, w = x.shape
    c = c4 // (r * r)
    x = x.view(n, r, r, c, h, w).permute(0, 3, 4, 1, 5, 2)
    return x.reshape(n, c, h * r, w * r)


class Upsampler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, 4 * c, 3, padding=1)

    def forward(self, x):
        return depth_to_space_dcr(self.conv1(x))


class Encoder(nn.Module):
    def __init__(self, ch=CH, ch_mult=CH_MULT, blocks=BLOCKS, z=Z):
        super().__init__()
        self.conv_in = nn.Conv2d(3, ch, 3, padding=1, bias=False)
        self.down = nn.ModuleList()
        cin = ch
        for i, m in enumerate(ch_mult):
            level = nn.Module()
            level.block = nn.ModuleList()
            for _ in range(blocks):
                level.block.append(ResBlock(cin, ch * m))
                cin = ch * m
            if i < len(ch_mult) - 1:
                level.downsample = nn.Conv2d(cin, cin, 3, stride=2, padding=1)
            self.down.append(level)
        self.mid_block = nn.ModuleList([ResBlock(cin, cin) for _ in range(blocks)])
        self.norm_out = norm(cin)
        self.conv_out = nn.Conv2d(cin, z, 1)

    def forward(self, x):
        h = self.conv_in(x)
        for level in self.down:
            for block in level.block:
                h = block(h)
            if hasattr(level, "downsample"):
                h = level.downsample(h)
        for block in self.mid_block:
            h = block(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, ch=CH, ch_mult=CH_MULT, blocks=BLOCKS, z=Z):
        super().__init__()
        cin = ch * ch_mult[-1]
        self.conv_in = nn.Conv2d(z, cin, 3, padding=1)
        self.mid_block = nn.ModuleList([ResBlock(cin, cin) for _ in range(blocks)])
        self.up = nn.ModuleList()
        for i in reversed(range(len(ch_mult))):
            level = nn.Module()
            level.block = nn.ModuleList()
            for _ in range(blocks):
                level.block.append(ResBlock(cin, ch * ch_mult[i]))
                cin = ch * ch_mult[i]
            if i > 0:
                level.upsample = Upsampler(cin)
            self.up.insert(0, level)
        self.norm_out = norm(cin)
        self.conv_out = nn.Conv2d(cin, 3, 3, padding=1)

    def forward(self, z):
        h = self.conv_in(z)
        for block in self.mid_block:
            h = block(h)
        for level in reversed(self.up):
            for block in level.block:
                h = block(h)
            if hasattr(level, "upsample"):
                h = level.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class SimVQ(nn.Module):
    def __init__(self, k=K, z=Z):
        super().__init__()
        self.embedding = nn.Embedding(k, z)
        self.embedding_proj = nn.Linear(z, z)

    def forward(self, z):
        b, d, h, w = z.shape
        flat = z.permute(0, 2, 3, 1).reshape(-1, d)
        codes = self.embedding_proj(self.embedding.weight)
        dist = (flat ** 2).sum(1, keepdim=True) + (codes ** 2).sum(1) - 2 * flat @ codes.t()
        idx = dist.argmin(1)
        zq = codes[idx].view(b, h, w, d).permute(0, 3, 1, 2)
        return zq, idx.view(b, h, w)


class VQModel(nn.Module):
    """The tokenizer at the fixture's widths by default; other widths for tools/bench_torch.py."""

    def __init__(self, ch=CH, ch_mult=CH_MULT, blocks=BLOCKS, z=Z, k=K):
        super().__init__()
        self.encoder = Encoder(ch, ch_mult, blocks, z)
        self.decoder = Decoder(ch, ch_mult, blocks, z)
        self.quantize = SimVQ(k, z)

    def forward(self, x):
        zq, idx = self.quantize(self.encoder(x))
        return self.decoder(zq).clamp(-1, 1), idx


def main():
    torch.manual_seed(0)
    torch.set_grad_enabled(False)
    ema = VQModel().eval()
    # Non-trivial norms so that a gamma/beta mix-up would show.
    for m in ema.modules():
        if isinstance(m, nn.GroupNorm):
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.2, 0.2)
    raw = VQModel().eval()
    raw.load_state_dict(ema.state_dict())
    for p in (raw.quantize.embedding_proj.weight, raw.quantize.embedding_proj.bias,
              raw.decoder.conv_out.weight, raw.decoder.conv_out.bias):
        p.add_(0.05 * torch.randn_like(p))
    raw.quantize.embedding.weight.copy_(ema.quantize.embedding.weight)

    OUT.mkdir(parents=True, exist_ok=True)
    save_lightning_checkpoint(
        OUT / "image_ckpt.ckpt", raw, ema, ("quantize.embedding_proj.", "decoder.conv_out."),
        "loss.discriminator.main.0.weight", torch.zeros(4, 3, 4, 4))

    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, 3, 16, 16, generator=g) * 2 - 1
    recon, idx = ema(x)
    recon_raw, idx_raw = raw(x)
    (OUT / "image_ckpt.json").write_text(json.dumps({
        "torch_version": torch.__version__,
        "config": {"ch": CH, "ch_mult": list(CH_MULT), "num_res_blocks": BLOCKS, "z_channels": Z,
                   "codebook_size": K},
        "input": x.flatten().tolist(),
        "ema": {"indices": idx.flatten().tolist(), "reconstruction": recon.flatten().tolist()},
        "raw": {"indices": idx_raw.flatten().tolist(),
                "reconstruction": recon_raw.flatten().tolist()},
    }))
    size = (OUT / "image_ckpt.ckpt").stat().st_size
    print("ckpt bytes", size, "distinct ema/raw indices", int((idx != idx_raw).sum()),
          "unique ema indices", idx.unique().numel())


if __name__ == "__main__":
    main()
