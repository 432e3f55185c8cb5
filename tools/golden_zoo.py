#!/usr/bin/env python3
"""Golden values for the quantizer zoo, from vector-quantize-pytorch itself.

Cases:
  * SimVQ with the rotation trick (`vector_quantize_pytorch.SimVQ`, rotation_trick=True, no bias):
    indices, quantized output, loss, gradients of the input and of W.
  * FSQ (`vector_quantize_pytorch.FSQ`): plain, with in/out projections, and with
    preserve_symmetry; outputs, indices, input gradients and decoded indices.
  * ResidualSimVQ (straight-through and rotation trick), LFQ and BSQ (`LFQ(spherical=True)`),
    and the EMA codebook of `VectorQuantize` over two training steps.

Writes crates/simvq-quant/tests/fixtures/zoo_golden.json. Needs torch and
vector-quantize-pytorch (pip install torch vector-quantize-pytorch==1.32.0); CI never runs it.
"""
import importlib.metadata
import json
import pathlib

import torch
import vector_quantize_pytorch as vqp

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/simvq-quant/tests/fixtures/zoo_golden.json"


def flat(t):
    return t.detach().reshape(-1).tolist()


def projection_weights(q):
    """The in/out projections of an FSQ or LFQ, when it has them."""
    if not q.has_projections:
        return {}
    return {
        "project_in_weight_out_in": flat(q.project_in.weight),
        "project_in_bias": flat(q.project_in.bias),
        "project_out_weight_out_in": flat(q.project_out.weight),
        "project_out_bias": flat(q.project_out.bias),
    }


def simvq_rotation(seed):
    torch.manual_seed(seed)
    dim, k = 8, 64
    vq = vqp.SimVQ(dim=dim, codebook_size=k, channel_first=True, rotation_trick=True)
    x = torch.randn(2, dim, 3, 4, requires_grad=True)
    g = torch.randn(2, dim, 3, 4)
    quantized, indices, loss = vq(x)
    (loss + (quantized * g).sum()).backward()
    return {
        "name": "simvq_rotation",
        "dim": dim,
        "codebook_size": k,
        "shape": list(x.shape),
        "frozen_codebook": flat(vq.frozen_codebook),
        "weight_out_in": flat(vq.code_transform.weight),
        "x": flat(x),
        "upstream_grad": flat(g),
        "indices": flat(indices),
        "quantized": flat(quantized),
        "loss": loss.item(),
        "grad_x": flat(x.grad),
        "grad_weight_out_in": flat(vq.code_transform.weight.grad),
    }


def residual_simvq(name, seed, rotation):
    torch.manual_seed(seed)
    dim, k, q = 8, 32, 3
    rvq = vqp.ResidualSimVQ(
        dim=dim, num_quantizers=q, codebook_size=k, rotation_trick=rotation,
        channel_first=True, quantize_dropout=True,
    )
    rvq.eval()  # all levels (dropout only in training); decoding a prefix needs quantize_dropout
    x = torch.randn(2, dim, 5, requires_grad=True)
    g = torch.randn(2, dim, 5)
    quantized, indices, losses = rvq(x)
    (losses.sum() + (quantized * g).sum()).backward()
    return {
        "name": name,
        "rotation": rotation,
        "dim": dim,
        "codebook_size": k,
        "num_quantizers": q,
        "shape": list(x.shape),
        "frozen_codebooks": [flat(layer.frozen_codebook) for layer in rvq.layers],
        "weights_out_in": [flat(layer.code_transform.weight) for layer in rvq.layers],
        "x": flat(x),
        "upstream_grad": flat(g),
        "indices": flat(indices),
        "quantized": flat(quantized),
        "losses": flat(losses),
        "grad_x": flat(x.grad),
        "grads_weight_out_in": [flat(layer.code_transform.weight.grad) for layer in rvq.layers],
        "decoded_prefix_2": flat(rvq.get_output_from_indices(indices[..., :2])),
    }


def fsq(name, levels, shape, seed, dim=None, preserve_symmetry=False):
    torch.manual_seed(seed)
    q = vqp.FSQ(levels=levels, dim=dim, preserve_symmetry=preserve_symmetry)
    z = (torch.randn(*shape) * 2).requires_grad_()
    g = torch.randn(*shape)
    out, indices = q(z)
    (out * g).sum().backward()
    case = {
        "name": name,
        "levels": levels,
        "dim": dim,
        "preserve_symmetry": preserve_symmetry,
        "shape": list(shape),
        "z": flat(z),
        "upstream_grad": flat(g),
        "quantized": flat(out),
        "indices": flat(indices),
        "grad_z": flat(z.grad),
        "decoded": flat(q.indices_to_codes(indices)),
    }
    case.update(projection_weights(q))
    return case


def lfq(name, seed, codebook_size, shape, dim=None, spherical=False, commitment=0.0):
    torch.manual_seed(seed)
    q = vqp.LFQ(
        codebook_size=codebook_size, dim=dim, spherical=spherical,
        commitment_loss_weight=commitment,
    )
    q.train()  # the entropy penalty is only computed in training mode
    z = torch.randn(*shape).requires_grad_()
    g = torch.randn(*shape)
    (out, indices, aux_loss), breakdown = q(z, return_loss_breakdown=True)
    (aux_loss + (out * g).sum()).backward()
    case = {
        "name": name,
        "codebook_size": codebook_size,
        "dim": dim,
        "spherical": spherical,
        "commitment_loss_weight": commitment,
        "shape": list(shape),
        "z": flat(z),
        "upstream_grad": flat(g),
        "quantized": flat(out),
        "indices": flat(indices),
        "aux_loss": aux_loss.item(),
        "per_sample_entropy": breakdown.per_sample_entropy.item(),
        "codebook_entropy": breakdown.batch_entropy.item(),
        "commitment": breakdown.commitment.item(),
        "grad_z": flat(z.grad),
        "decoded": flat(q.indices_to_codes(indices)),
    }
    case.update(projection_weights(q))
    return case


def ema_vq(name, seed):
    torch.manual_seed(seed)
    dim, k = 8, 16
    q = vqp.VectorQuantize(
        dim=dim, codebook_size=k, decay=0.8, commitment_weight=0.25, rotation_trick=False,
        kmeans_init=False, threshold_ema_dead_code=0,
    )
    q.train()
    embed = q._codebook.embed.detach().clone()
    steps = []
    for _ in range(2):
        x = torch.randn(1, 40, dim).requires_grad_()
        quantized, indices, loss = q(x)
        quantized.sum().backward()
        steps.append({
            "x": flat(x),
            "indices": flat(indices),
            "quantized": flat(quantized),
            "loss": loss.item(),
            "grad_x": flat(x.grad),
            "codebook_after": flat(q._codebook.embed),
            "cluster_size_after": flat(q._codebook.cluster_size),
        })
    return {"name": name, "dim": dim, "codebook_size": k, "decay": 0.8, "beta": 0.25,
            "initial_codebook": flat(embed), "steps": steps}


def main():
    cases = [
        simvq_rotation(0),
        residual_simvq("residual_simvq", 4, False),
        residual_simvq("residual_simvq_rotation", 5, True),
        fsq("fsq_image", [8, 5, 5, 5], (2, 4, 3, 5), 1),
        # flat tokens as [batch, tokens, dim]: FSQ takes channels last for 3-D input
        fsq("fsq_projected", [8, 6, 5], (1, 16, 10), 2, dim=10),
        fsq("fsq_symmetric", [2, 4, 3], (1, 20, 3), 3, preserve_symmetry=True),
        # LFQ on tokens [1, N, D] (channels last), small K so the entropy is over all codes
        lfq("lfq", 6, 16, (1, 24, 4)),
        lfq("lfq_projected", 7, 32, (1, 24, 6), dim=6, commitment=0.25),
        lfq("bsq", 8, 16, (1, 24, 4), spherical=True, commitment=0.25),
        ema_vq("ema_vq", 9),
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "generator": "tools/golden_zoo.py",
        "vector_quantize_pytorch": importlib.metadata.version("vector-quantize-pytorch"),
        "torch": torch.__version__,
        "cases": cases,
    }))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
