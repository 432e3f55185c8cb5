"""Golden values for V/UV F1 (simvq-metrics' `crepe` and `vuv`): torchcrepe 0.0.24 and librosa
0.11 themselves, the pieces of the reference's `metrics/periodicity.py` (Vocos'):

* the CREPE network (`torchcrepe.Crepe("full")`) on two frames, every tensor set from a
  closed-form formula the Rust test repeats (the 89 MB weights stay out of the repository);
* torchcrepe's framing (`preprocess(pad=False)`: mean removed, divided by the unbiased std);
* the 50–550 Hz masking, softmax and `torchcrepe.decode.viterbi` (librosa's Viterbi) path and
  the periodicity gathered at it, on synthetic sigmoid outputs with a wandering, jumping peak;
* the silence decision: torchaudio's power spectrogram, `librosa.perceptual_weighting` − 20 dB,
  mean over bins < −60, on tones with quiet stretches;
* the whole `predict_pitch` chain with the `tiny` network (closed-form weights) on two signals,
  and the F1 between them.

Writes crates/simvq-metrics/tests/fixtures/vuv_golden.json.

    /tmp/taenv/bin/pip install librosa && /tmp/taenv/bin/pip install --no-deps torchcrepe==0.0.24
    /tmp/taenv/bin/python tools/golden_vuv.py
"""

import json
import pathlib

import librosa
import numpy as np
import torch
import torchaudio
import torchcrepe

from closed_form import formula, set_closed_form

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/simvq-metrics/tests/fixtures"


def closed_form_crepe(capacity):
    """A torchcrepe network with every tensor from `formula`, and the list of specs."""
    model = torchcrepe.Crepe(capacity).eval()
    specs = set_closed_form(model)
    return model, specs


def predict_pitch(audio, model):
    """The reference's predict_pitch with `model` in place of torchcrepe's loaded `full`."""
    frames = next(torchcrepe.core.preprocess(audio, 16000, None, None, "cpu", pad=False))
    with torch.no_grad():
        probabilities = model(frames).reshape(1, -1, 360).transpose(1, 2)
    periodicity = decode(probabilities)[1]
    silence = silent(audio)
    periodicity[silence] = 0
    return periodicity >= 0.21, periodicity


def decode(probabilities):
    """torchcrepe.core.postprocess(fmin 50, fmax 550, viterbi): bins and periodicity."""
    probabilities = probabilities.clone()
    minidx = torchcrepe.convert.frequency_to_bins(torch.tensor(50.0))
    maxidx = torchcrepe.convert.frequency_to_bins(torch.tensor(550.0), torch.ceil)
    probabilities[:, :minidx] = -float("inf")
    probabilities[:, maxidx:] = -float("inf")
    bins, _ = torchcrepe.decode.viterbi(probabilities)
    return bins, torchcrepe.core.periodicity(probabilities, bins).numpy()


def weighted_db(audio):
    """The per-frame A-weighted mean power of the reference's silence test."""
    stft = torchaudio.functional.spectrogram(
        audio, window=torch.hann_window(1024), n_fft=1024, hop_length=160, win_length=1024,
        power=2, normalized=False, pad=0, center=False)
    freqs = librosa.fft_frequencies(sr=16000, n_fft=1024)
    weighted = librosa.perceptual_weighting(stft.numpy(), freqs) - torchcrepe.loudness.REF_DB
    return weighted.mean(axis=1)


def silent(audio):
    """The silence test of the reference's predict_pitch."""
    return weighted_db(audio) < -60


def f1(true_voiced, pred_voiced):
    tp = (true_voiced & pred_voiced).sum()
    fp = (~true_voiced & pred_voiced).sum()
    fn = (true_voiced & ~pred_voiced).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = tp / (tp + fp)
        recall = tp / (tp + fn)
        return float(2 * precision * recall / (precision + recall))


def short(values, digits):
    """Floats with `digits` significant digits (9 keep every f32 exact)."""
    return [float(f"{v:.{digits}g}") for v in values]


NOISE = np.random.default_rng(7)


def tone(seconds, hz, amplitude, quiet=(), noise=0.05):
    """A tone with a harmonic plus white noise at 16 kHz; `quiet` (start, end) stretches
    scaled by 1e-4 (silence for the reference's test)."""
    t = np.arange(int(seconds * 16000)) / 16000
    x = amplitude * (np.sin(2 * np.pi * hz * t) + 0.5 * np.sin(4 * np.pi * hz * t + 0.3))
    x = x + noise * NOISE.standard_normal(len(t))
    for start, end in quiet:
        x[int(start * 16000):int(end * 16000)] *= 1e-4
    return x.astype(np.float32)


def main():
    torch.manual_seed(0)
    result = {"torch": torch.__version__, "torchcrepe": "0.0.24", "librosa": librosa.__version__}

    full, full_specs = closed_form_crepe("full")
    frames = torch.from_numpy(formula((2, 1024), 3.0, 1.0))
    with torch.no_grad():
        result["network"] = {"tensors": full_specs, "frames": {"shape": [2, 1024], "salt": 3.0,
                                                                "amplitude": 1.0},
                             "outputs": full(frames).flatten().tolist()}

    signal = tone(0.2, 180.0, 0.3) + formula((3200,), 1.0, 0.01)
    framed = next(torchcrepe.core.preprocess(torch.from_numpy(signal)[None], 16000, None, None,
                                             "cpu", pad=False))
    result["framing"] = {"signal": short(signal.tolist(), 9), "frames": list(framed.shape),
                         "first": framed[0, :16].tolist(), "last": framed[-1, -16:].tolist()}

    steps = 40
    rng = np.random.default_rng(0)
    centre = 120 + 50 * np.sin(np.arange(steps) / 6.0)
    centre[20:24] += 90  # a jump Viterbi should not follow for a few frames
    bins = np.arange(360)
    outputs = np.exp(-0.5 * ((bins[None, :] - centre[:, None]) / 3.0) ** 2)
    outputs = (0.85 * outputs + 0.1 * rng.random((steps, 360))).astype(np.float32)
    decoded_bins, periodicity = decode(torch.from_numpy(outputs.T.copy())[None])
    result["decode"] = {"outputs": short(outputs.flatten().tolist(), 8), "steps": steps,
                        "bins": decoded_bins.flatten().tolist(),
                        "periodicity": periodicity.flatten().tolist()}

    quiet = tone(0.45, 220.0, 0.2, quiet=[(0.15, 0.3)])
    quiet_t = torch.from_numpy(quiet)[None]
    result["silence"] = {"signal": short(quiet.tolist(), 9),
                         "weighted_db": weighted_db(quiet_t).flatten().tolist(),
                         "silent": silent(quiet_t).flatten().tolist()}

    tiny, tiny_specs = closed_form_crepe("tiny")
    # Scale the classifier so that the sigmoid outputs straddle the 0.21 threshold.
    with torch.no_grad():
        tiny.classifier.bias.fill_(-1.2)
    tiny_specs = [[n, dict(s, amplitude=0.0, offset=-1.2)] if n == "classifier.bias" else [n, s]
                  for n, s in tiny_specs]
    a = tone(0.35, 150.0, 0.3, quiet=[(0.25, 0.35)])
    b = 0.8 * a + 0.02 * NOISE.standard_normal(len(a))
    b[int(0.05 * 16000):int(0.12 * 16000)] *= 1e-4
    a, b = (torch.from_numpy(x.astype(np.float32))[None] for x in (a, b))
    voiced_a, periodicity_a = predict_pitch(a, tiny)
    voiced_b, periodicity_b = predict_pitch(b, tiny)
    result["pipeline"] = {
        "tensors": tiny_specs, "a": short(a.flatten().tolist(), 9),
        "b": short(b.flatten().tolist(), 9),
        "voiced_a": voiced_a.flatten().tolist(), "voiced_b": voiced_b.flatten().tolist(),
        "periodicity_a": periodicity_a.flatten().tolist(), "f1": f1(voiced_a, voiced_b)}
    print("network outputs", float(result["network"]["outputs"][0]),
          "framing", result["framing"]["frames"],
          "decode bins", result["decode"]["bins"][28:36],
          "silent", int(np.sum(result["silence"]["silent"])), "of", len(result["silence"]["silent"]),
          "voiced a/b", int(voiced_a.sum()), int(voiced_b.sum()), "of", voiced_a.size,
          "f1", result["pipeline"]["f1"])
    (OUT / "vuv_golden.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()
