"""Golden values and gradients of every GAN loss term and of the whole image and audio training
objectives, from PyTorch autograd, for crates/simvq-image/tests/losses.rs and
crates/simvq-audio/tests/losses.rs.

The audio terms are the packages' own code: Vocos 0.1.0's `GeneratorLoss`, `DiscriminatorLoss`,
`FeatureMatchingLoss` and `MelSpecReconstructionLoss`, DAC 1.0.0's `GANLoss` (fed precomputed
verdicts through a stand-in discriminator). The weighting around them (÷5 for the multi-period
terms, ÷3 for the multi-resolution ones, 45 × mel, 1000 × quantizer loss) and the image terms
(SimVQ's `non_saturate_gen_loss` as `binary_cross_entropy_with_logits` against ones, taming's
`hinge_d_loss`, L1) are written from ../shared/reference/simvq-spec.md §2.2 and §3.5, as
the reference composes them in `vqperceptual.py` and `speech_loss.py`.

Inputs are closed-form (`offset + scale · sin(0.37 · i + salt)` over the flat index; the Rust
tests compute the same), so only outputs and gradients are stored. The image "extreme" case
pushes the logits far beyond ±88, where `log(exp(x) + 1)` overflows in f32; the audio
"saturated" case puts every hinge on one side.

    pip install torch torchaudio numpy vocos==0.1.0 descript-audio-codec==1.0.0 --no-deps
    python tools/golden_gan_losses.py
"""

import importlib.util
import json
import math
import pathlib
import sys
import types

import torch
import torch.nn.functional as F

import closed_form as closed_form_inputs
from package_stub import package_module

ROOT = pathlib.Path(__file__).resolve().parent.parent
torch.set_default_dtype(torch.float64)


def closed_form(shape, salt, scale=1.0, offset=0.0):
    """`offset + scale · sin(0.37 · i + salt)` over the flat index: the Rust test's `closed_form`."""
    n = math.prod(shape)
    i = torch.arange(n, dtype=torch.float64)
    return (offset + scale * torch.sin(0.37 * i + salt)).reshape(shape).requires_grad_(True)


def broadband(shape, salt, scale):
    """closed_form.broadband over the flat index of `shape`, as a leaf tensor."""
    values = closed_form_inputs.broadband(math.prod(shape), salt, scale)
    return torch.tensor(values, dtype=torch.float64).reshape(shape).requires_grad_(True)


def flat(t):
    return t.detach().reshape(-1).tolist()


def grad_of(t):
    return flat(t.grad) if t.grad is not None else [0.0] * t.numel()


def dac_gan_loss_class():
    """DAC's `GANLoss`; audiotools (its signal container) is replaced by a name-only stand-in."""
    audiotools = types.ModuleType("audiotools")
    audiotools.AudioSignal = object
    audiotools.STFTParams = object
    sys.modules.setdefault("audiotools", audiotools)
    # The file alone: dac.nn's __init__ imports its layers (einops) as well.
    folder = pathlib.Path(importlib.util.find_spec("dac").submodule_search_locations[0])
    spec = importlib.util.spec_from_file_location("dac_nn_loss", folder / "nn/loss.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.GANLoss


# ---------------------------------------------------------------- image

def non_saturating_generator_loss(logits_fake):
    """SimVQ's `non_saturate_gen_loss`."""
    b = logits_fake.shape[0]
    per_image = logits_fake.reshape(b, -1).mean(dim=-1)
    return F.binary_cross_entropy_with_logits(per_image, torch.ones_like(per_image))


def hinge_d_loss(logits_real, logits_fake):
    """taming's `hinge_d_loss`."""
    return 0.5 * (torch.mean(F.relu(1.0 - logits_real)) + torch.mean(F.relu(1.0 + logits_fake)))


def image_case(name, logit_offsets):
    """Logits `[2, 1, 3, 3]`; image b's logits centred on `logit_offsets[b]`."""
    offsets = torch.tensor(logit_offsets).reshape(2, 1, 1, 1)
    fake = (closed_form([2, 1, 3, 3], 0.3, 2.0).detach() + offsets).requires_grad_(True)
    real = (closed_form([2, 1, 3, 3], 1.1, 2.0).detach() - offsets).requires_grad_(True)
    x = closed_form([2, 3, 4, 4], 0.7, 0.9)
    x_hat = closed_form([2, 3, 4, 4], 2.3, 0.8)
    commitment = torch.tensor([0.37], requires_grad=True)
    codebook = torch.tensor([0.11], requires_grad=True)

    g = non_saturating_generator_loss(fake)
    g.backward()
    g_grad = grad_of(fake)
    fake.grad = None
    d = hinge_d_loss(real, fake)
    d.backward()
    d_grads = (grad_of(real), grad_of(fake))
    fake.grad = None

    # The generator objective (vqperceptual.py with perceptual_weight 0: LPIPS is proven on its
    # own in simvq-metrics): mean L1 + 0.1 · g + 1.0 · (commitment + codebook).
    reconstruction = (x - x_hat).abs().mean()
    adversarial = non_saturating_generator_loss(fake)
    total = reconstruction + 0.1 * adversarial + 1.0 * (commitment + codebook)
    total.backward()
    return {
        "name": name,
        "logit_offsets": logit_offsets,
        "generator_loss": g.item(),
        "generator_loss_grad": g_grad,
        "hinge_loss": d.item(),
        "hinge_grad_real": d_grads[0],
        "hinge_grad_fake": d_grads[1],
        "objective": {
            "total": total.item(),
            "reconstruction": reconstruction.item(),
            "adversarial": adversarial.item(),
            "grad_x_hat": grad_of(x_hat),
            "grad_logits_fake": grad_of(fake),
            "grad_commitment": commitment.grad.item(),
            "grad_codebook": codebook.grad.item(),
        },
    }


# ---------------------------------------------------------------- audio

# Sub-discriminators: multi-period 5, multi-resolution 3, DAC 8 (5 period, 3 band); each with
# two feature maps (the DAC ones end with the logit map, as DAC's do).
FEATURES = [[2, 2, 3, 2], [2, 3, 2, 2]]
LOGITS = [2, 1, 3, 2]


def verdicts(count, salt, logit_offset):
    out = []
    for d in range(count):
        features = [closed_form(s, salt + 0.1 * d + 0.01 * j, 1.5) for j, s in enumerate(FEATURES)]
        logits = closed_form(LOGITS, salt + 0.05 * d + 0.5, 2.0, logit_offset)
        out.append((features, logits))
    return out


class Tagged:
    """What DAC's GANLoss expects of an AudioSignal: `.audio_data`, `.clone()`, `.detach()`."""

    def __init__(self, tag):
        self.audio_data = tag

    def clone(self):
        return self

    def detach(self):
        return self


class Lookup(torch.nn.Module):
    """A 'discriminator' returning precomputed DAC verdicts: per sub-discriminator, its feature
    maps then its logit map."""

    def __init__(self, table):
        super().__init__()
        self.table = table

    def forward(self, tag):
        return self.table[tag]


def audio_case(name, logit_offset, samples=1536):
    vocos_loss = package_module("vocos", "loss")
    real_mpd, fake_mpd = verdicts(5, 0.2, -logit_offset), verdicts(5, 1.3, logit_offset)
    real_mrd, fake_mrd = verdicts(3, 2.1, -logit_offset), verdicts(3, 0.9, logit_offset)
    real_dac, fake_dac = verdicts(8, 1.7, -logit_offset), verdicts(8, 2.9, logit_offset)
    x = broadband([2, samples], 0.4, 0.5)
    x_hat = broadband([2, samples], 1.9, 0.45)
    commitment = torch.tensor([0.0037], requires_grad=True)
    codebook = torch.tensor([0.0011], requires_grad=True)
    dac_table = {
        "real": [f + [l] for f, l in real_dac],
        "fake": [f + [l] for f, l in fake_dac],
    }
    gan = dac_gan_loss_class()(Lookup(dac_table))
    real_tag, fake_tag = Tagged("real"), Tagged("fake")

    logits = lambda vs: [l for _, l in vs]
    features = lambda vs: [f for f, _ in vs]
    mel = vocos_loss.MelSpecReconstructionLoss(sample_rate=24000, n_fft=1024, hop_length=256, n_mels=100)

    # The discriminator objective (speech_loss.py): Vocos hinge / 5 + 1.0 · hinge / 3 + DAC LSGAN.
    d_mpd, _, _ = vocos_loss.DiscriminatorLoss()(logits(real_mpd), logits(fake_mpd))
    d_mrd, _, _ = vocos_loss.DiscriminatorLoss()(logits(real_mrd), logits(fake_mrd))
    d_dac = gan.discriminator_loss(fake_tag, real_tag)
    d_total = d_mpd / 5 + 1.0 * d_mrd / 3 + d_dac
    d_total.backward()
    leaves = lambda vs: [t for f, l in vs for t in f + [l]]
    all_leaves = [t for vs in (real_mpd, fake_mpd, real_mrd, fake_mrd, real_dac, fake_dac) for t in leaves(vs)]
    d_grads = {"grad_logits": [grad_of(l) for vs in (real_mpd, fake_mpd, real_mrd, fake_mrd, real_dac, fake_dac) for _, l in vs]}
    for t in all_leaves:
        t.grad = None

    # The generator objective.
    g_mpd, _ = vocos_loss.GeneratorLoss()(logits(fake_mpd))
    g_mrd, _ = vocos_loss.GeneratorLoss()(logits(fake_mrd))
    fm_mpd = vocos_loss.FeatureMatchingLoss()(features(real_mpd), features(fake_mpd))
    fm_mrd = vocos_loss.FeatureMatchingLoss()(features(real_mrd), features(fake_mrd))
    g_dac, fm_dac = gan.generator_loss(fake_tag, real_tag)
    adversarial = g_mpd / 5 + 1.0 * g_mrd / 3 + g_dac
    feature_matching = fm_mpd / 5 + 1.0 * fm_mrd / 3 + fm_dac
    mel_l1 = mel(x_hat, x)
    total = 1.0 * (adversarial + feature_matching) + 45.0 * mel_l1 + 1000.0 * (commitment + codebook)
    total.backward()

    def grads(vs):
        return [{"features": [grad_of(f) for f in fs], "logits": grad_of(l)} for fs, l in vs]

    sets = {"real_mpd": real_mpd, "fake_mpd": fake_mpd, "real_mrd": real_mrd,
            "fake_mrd": fake_mrd, "real_dac": real_dac, "fake_dac": fake_dac}
    return {
        "name": name,
        "logit_offset": logit_offset,
        "samples": samples,
        "discriminator": {"total": d_total.item(), **d_grads},
        "generator": {
            "total": total.item(),
            "mel": mel_l1.item(),
            "adversarial": adversarial.item(),
            "feature_matching": feature_matching.item(),
            "grad_x_hat": grad_of(x_hat),
            "grad_verdicts": {k: grads(v) for k, v in sets.items()},
            "grad_commitment": commitment.grad.item(),
            "grad_codebook": codebook.grad.item(),
        },
    }


def main():
    image = {"cases": [image_case("moderate", [0.5, -1.0]), image_case("extreme", [-150.0, 120.0])]}
    out = ROOT / "crates/simvq-image/tests/fixtures"
    out.mkdir(parents=True, exist_ok=True)
    (out / "losses_golden.json").write_text(json.dumps(image))
    audio = {
        "feature_shapes": FEATURES,
        "logit_shape": LOGITS,
        "cases": [audio_case("moderate", 0.3), audio_case("saturated", 3.0)],
    }
    (ROOT / "crates/simvq-audio/tests/fixtures/losses_golden.json").write_text(json.dumps(audio))
    for case in image["cases"]:
        print("image", case["name"], case["generator_loss"], case["hinge_loss"], case["objective"]["total"])
    for case in audio["cases"]:
        print("audio", case["name"], case["discriminator"]["total"], case["generator"]["total"])


if __name__ == "__main__":
    main()
