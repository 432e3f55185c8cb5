"""One training step of the image tokenizer and its PatchGAN in PyTorch with the reference's
update order, for crates/simvq-cli/tests/training_step.rs: the same initial weights (saved as a
Lightning-style state dict the Rust test imports), the same batch, one step; the parameters
after it.

The tokenizer is tools/golden_import_image.py's (the reference's module names; ch 32,
ch_mult [1, 1], z 8, K 32), trained through the reference's SimVQ forward (`legacy: false`:
0.25 · mse(sg z_q, z) + mse(z_q, sg z), straight-through output). The discriminator is taming's
own `NLayerDiscriminator` (ndf 8, 3 layers, `weights_init`). The losses: L1 + 0.1 ·
non-saturating GAN + 1.0 · quantizer loss for G (no LPIPS), hinge for D; Adam lr 1e-3, betas
(0.5, 0.9), eps 1e-8 for both.

Two variants:
* "clean": simvq-rs's default step: D's gradient from D's loss only, BatchNorm over the batch.
* "reference_exact": the reference's step, as `VQModel.training_step` runs it on 2 GPUs with 2
  images each: `opt_gen.zero_grad()` after G's step leaves G's GAN loss's gradient in D's
  `.grad`, so D's step adds it; BatchNorm statistics per GPU (groups of 2).

The batch is closed-form (`0.9 · sin(0.37 i + 0.2)` over the flat index of [4, 3, 32, 32]).

    pip install torch numpy taming-transformers==0.0.1 --no-deps   # torch 2.15
    python tools/golden_image_step.py
"""

import json
import pathlib

import torch
import torch.nn.functional as F
from taming.modules.discriminator.model import NLayerDiscriminator, weights_init

import golden_import_image as tiny

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "crates/simvq-cli/tests/fixtures"
LR, BETAS, EPS = 1e-3, (0.5, 0.9), 1e-8
GROUP = 2
WATCHED = [
    "encoder.conv_in.weight",
    "quantize.embedding_proj.weight",
    "quantize.embedding_proj.bias",
    "decoder.conv_out.weight",
    "decoder.conv_out.bias",
    "loss.discriminator.main.0.weight",
    "loss.discriminator.main.0.bias",
    "loss.discriminator.main.3.weight",
    "loss.discriminator.main.3.bias",
    "loss.discriminator.main.11.weight",
]


def quantize(q, z):
    """The reference's SimVQ forward (taming VectorQuantizer2 with the projection, legacy off)
    on channels-first latents of any rank (`[B, D, H, W]` images, `[B, D, T]` audio)."""
    last = z.movedim(1, -1)
    flat = last.reshape(-1, last.shape[-1])
    codes = q.embedding_proj(q.embedding.weight)
    dist = (flat ** 2).sum(1, keepdim=True) + (codes ** 2).sum(1) - 2 * flat @ codes.t()
    zq = codes[dist.argmin(1)].view(last.shape).movedim(-1, 1)
    commit = 0.25 * torch.mean((zq.detach() - z) ** 2) + torch.mean((zq - z.detach()) ** 2)
    return z + (zq - z).detach(), commit


def non_saturating(logits):
    per_image = logits.reshape(logits.shape[0], -1).mean(-1)
    return F.binary_cross_entropy_with_logits(per_image, torch.ones_like(per_image))


def hinge(real, fake):
    return 0.5 * (torch.mean(F.relu(1.0 - real)) + torch.mean(F.relu(1.0 + fake)))


def batch():
    n = 4 * 3 * 32 * 32
    i = torch.arange(n, dtype=torch.float64)
    return (0.9 * torch.sin(0.37 * i + 0.2)).float().reshape(4, 3, 32, 32)


def networks():
    torch.manual_seed(0)
    model = tiny.VQModel()
    model.quantize.embedding.weight.requires_grad_(False)
    disc = NLayerDiscriminator(input_nc=3, ndf=8, n_layers=3).apply(weights_init)
    return model, disc


def state(model, disc):
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    sd.update({f"loss.discriminator.{k}": v.detach().clone() for k, v in disc.state_dict().items()})
    return sd


def step(model, disc, x, exact):
    d_forward = (lambda t: torch.cat([disc(c) for c in t.split(GROUP)])) if exact else disc
    g_params = [p for p in model.parameters() if p.requires_grad]
    opt_g = torch.optim.Adam(g_params, lr=LR, betas=BETAS, eps=EPS)
    opt_d = torch.optim.Adam(disc.parameters(), lr=LR, betas=BETAS, eps=EPS)

    zq, commit = quantize(model.quantize, model.encoder(x))
    xrec = model.decoder(zq)
    rec = (x - xrec).abs().mean()
    gan = non_saturating(d_forward(xrec))
    loss_g = rec + 0.1 * gan + 1.0 * commit
    loss_g.backward()
    opt_g.step()
    opt_g.zero_grad()
    if not exact:
        opt_d.zero_grad()
    loss_d = hinge(d_forward(x.detach()), d_forward(xrec.detach()))
    loss_d.backward()
    opt_d.step()
    opt_d.zero_grad()
    after = state(model, disc)
    return {
        "losses": {"generator": loss_g.item(), "l1": rec.item(), "gan": gan.item(),
                   "commitment": commit.item(), "discriminator": loss_d.item()},
        "after": {k: after[k].flatten().tolist() for k in WATCHED},
    }


def main():
    model, disc = networks()
    initial = state(model, disc)
    OUT.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": initial}, OUT / "image_step.ckpt")
    x = batch()
    cases = {}
    for name, exact in (("clean", False), ("reference_exact", True)):
        model, disc = networks()
        model.train()
        disc.train()
        cases[name] = step(model, disc, x, exact)
        print(name, cases[name]["losses"])
    moved = {k: max(abs(a - b) for a, b in zip(cases["clean"]["after"][k], cases["reference_exact"]["after"][k]))
             for k in WATCHED}
    print("largest clean vs exact difference per tensor:", moved)
    (OUT / "image_step.json").write_text(json.dumps({
        "torch_version": torch.__version__,
        "lr": LR, "betas": BETAS, "eps": EPS, "batchnorm_batch": GROUP,
        "cases": cases,
    }))
    print("ckpt bytes", (OUT / "image_step.ckpt").stat().st_size)


if __name__ == "__main__":
    main()
