"""Two training steps of the audio codec and its three discriminators in PyTorch with the
reference's update order, for crates/simvq-cli/tests/audio_training_step.rs: the same initial
weights, the same two batches; the losses of each step and the parameters after the second.
Two steps, because Adam's first update is ±lr wherever a gradient is well above eps: the
second one depends on how the two steps' gradients compare, so it checks their magnitudes too.

The codec is tools/golden_import_audio.py's (EnCodec's SEANet, the pos_net backbone, Vocos's
ISTFTHead; K 64) with the raw weights of its checkpoint (crates/simvq-cli/tests/fixtures/
audio_ckpt.ckpt, which the Rust test imports), dropout off. Quantized through the reference's
SimVQ forward (tools/golden_image_step.py's `quantize`). The discriminators are the packages'
own at the reference's full widths: vocos 0.0.3's `MultiPeriodDiscriminator` and
`MultiResolutionDiscriminator`, DAC 1.0.0's `Discriminator(rates=[])` with the reference's
spectrogram (tools/golden_dac.py), weighted with golden_dac.py's closed-form formulas (~85 M
parameters: too many for a fixture). The losses are vocos's `GeneratorLoss`,
`DiscriminatorLoss`, `FeatureMatchingLoss`, `MelSpecReconstructionLoss` and DAC's `GANLoss`,
weighted as the reference's `speech_loss.py` (../shared/reference/simvq-spec.md §3.5): G =
adversarial + feature matching (multi-period terms / 5, multi-resolution / 3) + 45 · mel + 1000
· quantizer loss; D = hinge / 5 + hinge / 3 + DAC least squares. The reference's Adam (lr 1e-4,
betas (0.5, 0.9), eps 1e-8) for both.
The order (§2.3, §3.6): G forward, G backward, G step; D's gradients zeroed; D's loss on the
detached reconstruction; D step. The audio step has no gradient leak and no BatchNorm, so the
reference's step and simvq-rs's `reference_exact` step are this one step.

The steps run twice, in f32 and in f64, from the same f32-rounded weights and batches.
Stored: the codec after the two steps as a state dict, of each run (audio_step_after.ckpt,
audio_step_after_f64.ckpt, imported by the tests and compared tensor by tensor); for every
discriminator tensor (under simvq-rs's paths) the sum, a closed-form-weighted sum and the sum
of magnitudes, of its values and of its update (an update is ~1e-4 of a weight: a check on the
values alone would barely see it), of each run, and the full values of a few; per step the
losses, the codes used and the smallest relative gap between a frame's two nearest codes (ties
would make the comparison a coin toss); and how many LeakyReLU inputs lie so close to zero
that f32 rounding decides their slope.

Why both runs: in f32 some things are decided by rounding, and no two frameworks round alike.
The attention key's bias has a zero gradient in exact arithmetic (softmax ignores a bias shared
by every key), so Adam turns rounding residue into ±lr steps of arbitrary sign; and of the
discriminators' ~55 M LeakyReLU inputs on these batches several hundred lie within three times
f32's rounding error of the kink, where the slope (1 or 0.1) follows summation order (the f32
test skips the two stacks where that shows). No choice of batch avoids it at this size. In f64
the same effects are ~1e-9 smaller, so the f64 test compares every tensor.

The batches are closed-form: `0.4 sin(0.021 i + s) + 0.2 sin(0.13 i + 2 s) + broadband(0.1)`
over the flat index of [2, 2560] (8 frames per clip), s = 1.1 and 2.9.

    python3 -m venv --system-site-packages /tmp/aenv   # torch 2.15, torchaudio, numpy, einops
    /tmp/aenv/bin/pip install --no-deps vocos==0.0.3 encodec==0.1.1
    /tmp/aenv/bin/pip download --no-deps descript-audio-codec==1.0.0  # unzip into /tmp/dacdl/dacpkg
    DAC_WHEEL_DIR=/tmp/dacdl/dacpkg /tmp/aenv/bin/python tools/golden_audio_step.py
"""

import json
import pathlib

import torch

import golden_dac as dac_golden
from closed_form import broadband
import golden_import_audio as tiny
from golden_image_step import quantize
from package_stub import package_module

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "crates/simvq-cli/tests/fixtures"
LR, BETAS, EPS = 1e-4, (0.5, 0.9), 1e-8
CLIPS, SAMPLES = 2, 2560
SALTS = (1.1, 2.9)
MEL_WEIGHT, COMMIT_WEIGHT = 45.0, 1000.0
# A LeakyReLU input this many times PyTorch's f32 rounding error from zero may take either slope.
KINK_FACTOR = 3
WATCHED = [
    "mpd.discriminators.0.conv_post.weight_v",
    "mrd.discriminators.2.convs.0.weight_g",
    "dac.periods.4.convs.0.bias",
    "dac.bands.0.conv_post.bias",
]


def batch(salt):
    n = CLIPS * SAMPLES
    noise = torch.tensor(broadband(n, salt, 0.1), dtype=torch.float64)
    i = torch.arange(n, dtype=torch.float64)
    x = 0.4 * torch.sin(0.021 * i + salt) + 0.2 * torch.sin(0.13 * i + 2 * salt) + noise
    return x.float().reshape(CLIPS, SAMPLES)


def codec():
    """The fixture's codec with its raw (not EMA) weights, dropout off, the codebook frozen.
    The iSTFT window is not loaded: it is a constant, computed in the default dtype (the
    checkpoint holds torch's float32 one, whose values differ from the f64 one by up to 6e-4
    relative near its ends)."""
    model = tiny.VQAudio()
    state = torch.load(FIXTURES / "audio_ckpt.ckpt", weights_only=False)["state_dict"]
    own = model.state_dict()
    model.load_state_dict({k: own[k] if k.endswith(".window") else v for k, v in state.items() if k in own})
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    model.quantize.embedding.weight.requires_grad_(False)
    return model.train()


def dac_name(name):
    """simvq-rs's path of a DAC `Discriminator` tensor: periods first, then the bands."""
    parts = name.split(".")
    k, param = int(parts[1]), parts[-1]
    if k < 5:
        if parts[2] == "conv_post":
            return f"dac.periods.{k}.conv_post.{param}"
        return f"dac.periods.{k}.convs.{parts[3]}.{param}"
    if parts[2] == "conv_post":
        return f"dac.bands.{k - 5}.conv_post.{param}"
    return f"dac.bands.{k - 5}.bands.{parts[3]}.convs.{parts[4]}.{param}"


class Discriminators(torch.nn.Module):
    """The reference's three discriminators with closed-form weights."""

    def __init__(self):
        super().__init__()
        discriminators = package_module("vocos", "discriminators")
        dac = dac_golden.load_dac_file("dac/model/discriminator.py")
        dac.MRD.spectrogram = dac_golden.reference_spectrogram
        self.mpd = discriminators.MultiPeriodDiscriminator()
        self.mrd = discriminators.MultiResolutionDiscriminator()
        self.dac = dac.Discriminator(rates=[], periods=[2, 3, 5, 7, 11], fft_sizes=[2048, 1024, 512])
        with torch.no_grad():
            for name, p in self.named_parameters():
                p.copy_(dac_golden.closed_form(name, tuple(p.shape)))

    def ours(self):
        """(simvq-rs path, tensor) of every parameter."""
        for name, p in self.named_parameters():
            yield (dac_name(name[4:]) if name.startswith("dac.") else name), p


class Objectives:
    """The reference's generator and discriminator objectives (`speech_loss.py`)."""

    def __init__(self, discriminators):
        loss = package_module("vocos", "loss")
        gan_loss = dac_golden.load_dac_file("dac/nn/loss.py").GANLoss
        self.d = discriminators
        self.dac = gan_loss(discriminators.dac)
        self.mel = loss.MelSpecReconstructionLoss(sample_rate=24000, n_fft=1024, hop_length=256, n_mels=100)
        self.gen, self.disc, self.fm = loss.GeneratorLoss(), loss.DiscriminatorLoss(), loss.FeatureMatchingLoss()

    def generator(self, x, x_hat, commit):
        real_p, fake_p, fmap_rp, fmap_gp = self.d.mpd(y=x, y_hat=x_hat)
        real_r, fake_r, fmap_rr, fmap_gr = self.d.mrd(y=x, y_hat=x_hat)
        g_mpd, _ = self.gen(fake_p)
        g_mrd, _ = self.gen(fake_r)
        fm_mpd, fm_mrd = self.fm(fmap_rp, fmap_gp), self.fm(fmap_rr, fmap_gr)
        g_dac, fm_dac = self.dac.generator_loss(dac_golden.Signal(x_hat.unsqueeze(1)), dac_golden.Signal(x.unsqueeze(1)))
        adversarial = g_mpd / 5 + 1.0 * g_mrd / 3 + g_dac
        feature_matching = fm_mpd / 5 + 1.0 * fm_mrd / 3 + fm_dac
        mel = self.mel(x_hat, x)
        total = 1.0 * (adversarial + feature_matching) + MEL_WEIGHT * mel + COMMIT_WEIGHT * commit
        return total, {"mel": mel.item(), "gan": adversarial.item(),
                       "feature_matching": feature_matching.item(), "commitment": commit.item()}

    def discriminator(self, x, x_hat):
        real_p, fake_p, _, _ = self.d.mpd(y=x, y_hat=x_hat)
        real_r, fake_r, _, _ = self.d.mrd(y=x, y_hat=x_hat)
        d_mpd, _, _ = self.disc(real_p, fake_p)
        d_mrd, _, _ = self.disc(real_r, fake_r)
        d_dac = self.dac.discriminator_loss(dac_golden.Signal(x_hat.unsqueeze(1)), dac_golden.Signal(x.unsqueeze(1)))
        return d_mpd / 5 + 1.0 * d_mrd / 3 + d_dac


def step(model, objectives, opt_g, opt_d, x):
    z = model.encoder(x.unsqueeze(1))
    with torch.no_grad():
        codes = model.quantize.embedding_proj(model.quantize.embedding.weight)
    zq, commit = quantize(model.quantize, z)
    x_hat = model.head(model.backbone(zq))[:, : x.shape[1]]
    opt_g.zero_grad()
    loss_g, terms = objectives.generator(x, x_hat, commit)
    loss_g.backward()
    opt_g.step()
    opt_d.zero_grad()
    loss_d = objectives.discriminator(x, x_hat.detach())
    loss_d.backward()
    opt_d.step()
    return {"generator": loss_g.item(), **terms, "discriminator": loss_d.item()}, margin(z, codes)


def margin(z, codes):
    """The smallest gap between a frame's nearest and second-nearest code (relative to the
    second's distance): how far the test is from a tie that rounding could break either way."""
    flat = z.detach().movedim(1, -1).reshape(-1, z.shape[1])
    dist = torch.cdist(flat.double(), codes.double()) ** 2
    two = dist.topk(2, largest=False).values
    gap = (two[:, 1] - two[:, 0]) / two[:, 1]
    return gap.min().item(), dist.argmin(1).tolist()


class KinkWatch:
    """Records the input of every LeakyReLU while active: vocos's discriminators call
    `torch.nn.functional.leaky_relu`, and DAC's `nn.LeakyReLU` modules call it too."""

    def __init__(self):
        self.inputs = []

    def __enter__(self):
        self.original = torch.nn.functional.leaky_relu

        def watched(x, *args, **kwargs):
            self.inputs.append(x.detach().double().reshape(-1).clone())
            return self.original(x, *args, **kwargs)

        torch.nn.functional.leaky_relu = watched
        return self

    def __exit__(self, *exc):
        torch.nn.functional.leaky_relu = self.original


def near_kink(exact, rounded, factor):
    """The LeakyReLU inputs whose sign f32 rounding could flip: per call, those closer to zero
    (in the f64 run) than `factor` times the call's typical (root-mean-square) f32 error, f32
    run against f64. The error of a dot product depends on its terms, not its result, so an
    input near zero is as far off as the others.
    Such an input's slope, 1 or 0.1, is decided by summation order, which no two frameworks
    share; the batches are chosen so that there are none. Returns (count, smallest ratio)."""
    assert len(exact) == len(rounded), "the f32 and f64 runs called LeakyReLU differently"
    count, smallest = 0, float("inf")
    for x64, x32 in zip(exact, rounded):
        error = (x32 - x64).pow(2).mean().sqrt().item()
        ratio = x64.abs().min().item() / max(error, 1e-300)
        smallest = min(smallest, ratio)
        count += int((x64.abs() < factor * error).sum().item())
    return count, smallest


def weights(n):
    """`sin(0.37 i + 1)` over a tensor's flat index: the weights of the checksum."""
    return torch.sin(0.37 * torch.arange(n, dtype=torch.float64) + 1.0)


def snapshot(pairs):
    return {name: p.detach().double().reshape(-1).clone() for name, p in pairs}


def summary(before, after):
    """Per tensor, after the steps: the sum, the `weights`-weighted sum and the sum of
    magnitudes, of the values and of the update (after − before)."""
    out = {}
    for name, flat in after.items():
        update = flat - before[name]
        w = weights(flat.numel())
        out[name] = {"sum": flat.sum().item(), "weighted": (flat * w).sum().item(),
                     "abs": flat.abs().sum().item(), "update_weighted": (update * w).sum().item(),
                     "update_abs": update.abs().sum().item()}
    return out


def train(dtype, watch):
    """Both steps in `dtype`, LeakyReLU inputs recorded into `watch`: the per-step records, the
    codec, the discriminators' summaries and the discriminators. The modules are built with
    `dtype` as torch's default, so that their constants (windows, the mel filterbank) are
    computed in it, as a reference run in that dtype would; the weights and batches are the
    f32 ones in both runs."""
    torch.set_default_dtype(dtype)
    model = codec().to(dtype)
    discriminators = Discriminators().to(dtype)
    objectives = Objectives(discriminators)
    objectives.mel.to(dtype)
    torch.set_default_dtype(torch.float32)
    g_params = [p for p in model.parameters() if p.requires_grad]
    opt_g = torch.optim.Adam(g_params, lr=LR, betas=BETAS, eps=EPS)
    opt_d = torch.optim.Adam(discriminators.parameters(), lr=LR, betas=BETAS, eps=EPS)
    before = snapshot(discriminators.ours())
    steps = []
    for salt in SALTS:
        with watch:
            losses, (gap, codes) = step(model, objectives, opt_g, opt_d, batch(salt).to(dtype))
        steps.append({"salt": salt, "losses": losses, "codes": codes, "tie_margin": gap})
        print(dtype, salt, losses, "distinct codes", len(set(codes)), "tie margin", gap)
    return steps, model, summary(before, snapshot(discriminators.ours())), discriminators


def main():
    watch64, watch32 = KinkWatch(), KinkWatch()
    exact_steps, exact_model, exact, _ = train(torch.float64, watch64)
    steps, model, disc_tensors, discriminators = train(torch.float32, watch32)
    assert [s["codes"] for s in steps] == [s["codes"] for s in exact_steps], "f32 and f64 codes differ"
    near, _ = near_kink(watch64.inputs, watch32.inputs, KINK_FACTOR)
    inputs = sum(x.numel() for x in watch64.inputs)
    print(f"{near} of {inputs} LeakyReLU inputs within {KINK_FACTOR}x f32 rounding of the kink")
    # PyTorch's own f32 rounding error, measured against f64: the scale of the Rust test's
    # tolerance for each discriminator checksum; and the f64 checksums for the f64 test.
    for name, sums in disc_tensors.items():
        sums["noise"] = {k: abs(sums[k] - exact[name][k]) for k in ("sum", "weighted", "update_weighted")}
        sums["f64"] = exact[name]
    torch.save({"state_dict": model.state_dict()}, FIXTURES / "audio_step_after.ckpt")
    torch.save({"state_dict": exact_model.state_dict()}, FIXTURES / "audio_step_after_f64.ckpt")
    named = dict(discriminators.ours())
    (FIXTURES / "audio_step.json").write_text(json.dumps({
        "torch_version": torch.__version__,
        "lr": LR, "betas": BETAS, "eps": EPS, "clips": CLIPS, "samples": SAMPLES,
        "steps": steps,
        "f64_steps": exact_steps,
        "near_kink": {"factor": KINK_FACTOR, "count": near, "inputs": inputs},
        "discriminators": disc_tensors,
        "watched": {k: named[k].detach().reshape(-1).tolist() for k in WATCHED},
        "discriminator_parameters": sum(p.numel() for p in discriminators.parameters()),
    }))
    print("discriminator tensors", len(disc_tensors), "bytes",
          (FIXTURES / "audio_step.json").stat().st_size, (FIXTURES / "audio_step_after.ckpt").stat().st_size)


if __name__ == "__main__":
    main()
