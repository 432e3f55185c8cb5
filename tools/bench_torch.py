"""PyTorch side of `cargo xtask bench speed`: the same models, shapes and steps as simvq-rs, timed
on the same machine in the same run. Prints one JSON object on stdout.

The image tokenizer is tools/golden_import_image.py's (the reference's modules, written from
../shared/reference/simvq-spec.md §2.1) at the widths asked for; the discriminator is taming's own
`NLayerDiscriminator`; the quantizer benchmark is vector-quantize-pytorch's `SimVQ`, the tool a
PyTorch user would reach for. A training step is what simvq-rs's image step does: the tokenizer
forward, D on the reconstruction inside G's graph (L1 + 0.1 · non-saturating GAN + commitment),
D on the real and the detached reconstruction (hinge), both backwards and both Adam steps
(betas 0.5, 0.9). With `--refit` the codebook is refitted to the batch's latents first, as the
CPU demo does every step (an encoder forward without gradients, mean and covariance of the
latents, a Cholesky factor).

    pip install torch numpy vector-quantize-pytorch
    pip install taming-transformers==0.0.1 --no-deps   # its own pins are for an old torch
    python tools/bench_torch.py image --ch 32 --ch-mult 1,2,4 --blocks 1 --z 32 --k 512 \
        --size 32 --batch 4 --ndf 32 --steps 20 --refit
    python tools/bench_torch.py quant --tokens 16384 --dim 128 --k 1024,8192
    python tools/bench_torch.py --device cuda quant --k 65536       # on a GPU (tools/gpu-bench.sh)

On CUDA every timed call ends with `torch.cuda.synchronize()`, and each answer carries the peak
of `torch.cuda.max_memory_allocated()` over its run.
"""

import argparse
import json
import sys
import time

import torch
import torch.nn.functional as F

import golden_import_image as reference_image


DEVICE = torch.device("cpu")


def sync():
    """Waits for the device's queued work, so a time covers the work and not its launch."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize(DEVICE)


def timed(steps, warmup, fn):
    """Seconds per call of `fn` after `warmup` untimed calls (the best of the timed calls is
    not used: the Rust side reports the mean of its logged steps)."""
    for _ in range(warmup):
        fn()
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    sync()
    return (time.perf_counter() - start) / steps


def image_models(args):
    from taming.modules.discriminator.model import NLayerDiscriminator, weights_init

    ch_mult = tuple(int(m) for m in args.ch_mult.split(","))
    model = reference_image.VQModel(args.ch, ch_mult, args.blocks, args.z, args.k)
    model.quantize.embedding.weight.requires_grad_(False)
    disc = NLayerDiscriminator(input_nc=3, ndf=args.ndf, n_layers=3).apply(weights_init)
    return model.to(DEVICE), disc.to(DEVICE)


def quantize(q, z, beta=0.25):
    """The reference's SimVQ forward with its commitment loss and straight-through output."""
    b, d, h, w = z.shape
    flat = z.permute(0, 2, 3, 1).reshape(-1, d)
    codes = q.embedding_proj(q.embedding.weight)
    dist = (flat ** 2).sum(1, keepdim=True) + (codes ** 2).sum(1) - 2 * flat @ codes.t()
    zq = codes[dist.argmin(1)].view(b, h, w, d).permute(0, 3, 1, 2)
    commit = beta * torch.mean((zq.detach() - z) ** 2) + torch.mean((zq - z.detach()) ** 2)
    return z + (zq - z).detach(), commit


def refit(model, x):
    """Codebook moved onto the batch's latents: W = Cholesky factor of their covariance, b their
    mean (the arithmetic of simvq-rs's data fit, for its cost)."""
    with torch.no_grad():
        z = model.encoder(x)
        flat = z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])
        mean = flat.mean(0)
        cov = torch.cov(flat.t()) + 1e-5 * torch.eye(flat.shape[1], device=DEVICE)
        model.quantize.embedding_proj.weight.copy_(torch.linalg.cholesky(cov))
        model.quantize.embedding_proj.bias.copy_(mean)


def image_step_fn(args):
    model, disc = image_models(args)
    params = [p for p in model.parameters() if p.requires_grad]
    opt_g = torch.optim.Adam(params, lr=4e-4, betas=(0.5, 0.9), eps=1e-8)
    opt_d = torch.optim.Adam(disc.parameters(), lr=4e-4, betas=(0.5, 0.9), eps=1e-8)
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(args.batch, 3, args.size, args.size, generator=gen) * 2 - 1).to(DEVICE)

    def step():
        if args.refit:
            refit(model, x)
        zq, commit = quantize(model.quantize, model.encoder(x))
        recon = model.decoder(zq)
        g_loss = (x - recon).abs().mean() - 0.1 * disc(recon).mean() + commit
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        d_loss = 0.5 * (F.relu(1 - disc(x)).mean() + F.relu(1 + disc(recon.detach())).mean())
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()

    return step, x


def image(args):
    step, _ = image_step_fn(args)
    seconds = timed(args.steps, 1, step)
    return {"images_per_second": args.batch / seconds, "seconds_per_step": seconds}


def image_encode(args):
    model, _ = image_models(args)
    model.eval()
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(args.batch, 3, args.size, args.size, generator=gen) * 2 - 1).to(DEVICE)

    def encode():
        with torch.no_grad():
            z = model.encoder(x)
            flat = z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])
            codes = model.quantize.embedding_proj(model.quantize.embedding.weight)
            torch.cdist(flat, codes).argmin(1)

    seconds = timed(args.steps, 1, encode)
    return {"images_per_second": args.batch / seconds}


def quant(args):
    """vector-quantize-pytorch's SimVQ forward + backward, and torch's sgemm on the distance
    product's shape, per K."""
    from vector_quantize_pytorch import SimVQ

    rows = []
    for k in (int(k) for k in args.k.split(",")):
        vq = SimVQ(dim=args.dim, codebook_size=k, rotation_trick=False).to(DEVICE)
        z = torch.randn(1, args.tokens, args.dim, device=DEVICE, requires_grad=True)

        def train_step():
            out, _, loss = vq(z)
            (out.sum() + loss).backward()

        a = torch.randn(args.tokens, args.dim, device=DEVICE)
        b = torch.randn(args.dim, k, device=DEVICE)
        rows.append({
            "codebook_size": k,
            "train_step_s": timed(args.repeats, 1, train_step),
            "matmul_s": timed(args.repeats, 1, lambda: a @ b),
        })
    return {"rows": rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: its default)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    sub = parser.add_subparsers(dest="what", required=True)
    for name in ("image", "image-encode"):
        p = sub.add_parser(name)
        p.add_argument("--ch", type=int, default=128)
        p.add_argument("--ch-mult", default="1,2,2,4")
        p.add_argument("--blocks", type=int, default=2)
        p.add_argument("--z", type=int, default=128)
        p.add_argument("--k", type=int, default=65536)
        p.add_argument("--ndf", type=int, default=64)
        p.add_argument("--size", type=int, default=128)
        p.add_argument("--batch", type=int, default=2)
        p.add_argument("--steps", type=int, default=3)
        p.add_argument("--refit", action="store_true")
    p = sub.add_parser("quant")
    p.add_argument("--tokens", type=int, default=16384)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--k", default="1024,8192,65536,262144")
    p.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    global DEVICE
    DEVICE = torch.device(args.device)
    if DEVICE.type == "cuda":
        torch.cuda.reset_peak_memory_stats(DEVICE)
    run = {"image": image, "image-encode": image_encode, "quant": quant}[args.what]
    result = run(args)
    result["torch_version"] = torch.__version__
    result["threads"] = torch.get_num_threads()
    result["device"] = str(DEVICE)
    if DEVICE.type == "cuda":
        result["device_name"] = torch.cuda.get_device_name(DEVICE)
        result["peak_memory_bytes"] = torch.cuda.max_memory_allocated(DEVICE)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
