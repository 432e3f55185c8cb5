#!/usr/bin/env bash
# simvq-rs on an NVIDIA GPU next to PyTorch on the same GPU, in one run of at most 10 minutes,
# for a machine with a GPU, PyTorch and no Rust toolchain. Writes one JSON with every
# throughput, the ratios, and the peak GPU memory of each phase.
#
# Build the binary beforehand where Rust is (strip it: the debug info is most of its size):
#
#     cargo build --release -p xtask --features cuda
#     mkdir -p gpu-bench && strip -o gpu-bench/xtask "${CARGO_TARGET_DIR:-target}/release/xtask"
#
# then, on the GPU machine, from the root of a copy of this repository (the binary finds the
# demo data, configs and tools/bench_torch.py there):
#
#     pip install torch vector-quantize-pytorch && pip install taming-transformers==0.0.1 --no-deps
#     tools/gpu-bench.sh                       # writes gpu-bench/out/gpu-bench.json
#
# Phases (each under its own timeout; one that fails or times out is recorded as such and the
# others still run):
#   speed  `bench speed --backend cuda --python ... --torch-device cuda`: the demo and the
#          reference image model's training step, encode, the quantizer against
#          vector-quantize-pytorch at K = 1,024 … 262,144, the distance product against torch's
#          matmul; both sides on the GPU, as ratios.
#   quant  `bench quant --backend cuda`: the fused search kernel next to the tiled search.
#   image, audio  `bench image|audio --backend cuda`: the reference models' training step.
#   train  200 steps of the `train image` demo on CUDA, end to end (data, EMA, checkpoints).
# Peak GPU memory is what `nvidia-smi` reports in use on the device, sampled every 100 ms
# during the phase (the whole device: run nothing else on it).
#
# Environment: BIN (gpu-bench/xtask), PYTHON (python3), OUT (gpu-bench/out), BACKEND (cuda),
# TORCH_DEVICE (cuda), QUICK=1 for tiny sizes (a dry run of the plumbing, e.g. BACKEND=cpu
# TORCH_DEVICE=cpu on a machine without a GPU).
set -uo pipefail

BIN=${BIN:-gpu-bench/xtask}
PYTHON=${PYTHON:-python3}
OUT=${OUT:-gpu-bench/out}
BACKEND=${BACKEND:-cuda}
TORCH_DEVICE=${TORCH_DEVICE:-cuda}
QUICK=${QUICK:-0}

if [ ! -x "$BIN" ]; then
    echo "error: no executable at $BIN; build it first (see the top of $0) or set BIN" >&2
    exit 2
fi
if ! "$PYTHON" -c "import torch" 2>/dev/null; then
    echo "error: $PYTHON cannot import torch; set PYTHON to an interpreter that has it" >&2
    exit 2
fi
mkdir -p "$OUT"

if [ "$QUICK" = 1 ]; then
    speed_args=(--steps 2 --reference-steps 0 --codebook-sizes 1024)
    quant_args=(--tokens 1024 --dim 32 --codebook-sizes 1024,8192 --repeats 1)
    model_args=(--batch 1 --steps 1)
    train_steps=4
else
    speed_args=(--steps 50 --reference-steps 5)
    quant_args=()
    model_args=(--batch 8 --steps 5)
    train_steps=200
fi

# Samples the GPU's used memory (MiB) into $1 until killed; nothing without nvidia-smi.
sample_memory() {
    command -v nvidia-smi >/dev/null || return 0
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 >"$1" 2>/dev/null
}

# phase NAME TIMEOUT_S COMMAND...: runs COMMAND with stdout in $OUT/NAME.out, stderr in
# $OUT/NAME.err, and records its exit status, wall time and peak memory in $OUT/NAME.phase.
phase() {
    local name=$1 limit=$2
    shift 2
    echo "==> $name (at most ${limit} s): $*" >&2
    sample_memory "$OUT/$name.mem" &
    local sampler=$! start=$SECONDS
    timeout "$limit" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
    local status=$?
    kill "$sampler" 2>/dev/null
    wait "$sampler" 2>/dev/null
    local peak
    peak=$(sort -n "$OUT/$name.mem" 2>/dev/null | tail -1)
    printf '{"status": %d, "timed_out": %s, "seconds": %d, "peak_gpu_memory_mib": %s}\n' \
        "$status" "$([ "$status" = 124 ] && echo true || echo false)" "$((SECONDS - start))" \
        "${peak:-null}" >"$OUT/$name.phase"
    [ "$status" = 0 ] || echo "    $name failed ($status): see $OUT/$name.err" >&2
}

phase speed 270 "$BIN" bench speed --backend "$BACKEND" --python "$PYTHON" \
    --torch-device "$TORCH_DEVICE" "${speed_args[@]}" --json "$OUT/speed.json"
phase quant 120 "$BIN" bench quant --backend "$BACKEND" "${quant_args[@]}" --json "$OUT/quant.json"
phase image 45 "$BIN" bench image --backend "$BACKEND" "${model_args[@]}"
phase audio 45 "$BIN" bench audio --backend "$BACKEND" "${model_args[@]}"
phase train 110 "$BIN" train image --backend "$BACKEND" --steps "$train_steps" \
    --out "$OUT/train-image" --no-progress

"$PYTHON" - "$OUT" <<'EOF'
"""Gathers the phases into gpu-bench.json: each phase's status, time and peak memory, and what
its command reported (its JSON file, or the JSON it printed)."""
import json
import pathlib
import subprocess
import sys

out = pathlib.Path(sys.argv[1])


def load(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def gpu():
    try:
        line = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, check=True).stdout.strip()
        return line
    except (OSError, subprocess.CalledProcessError):
        return None


report = {"gpu": gpu(), "phases": {}}
for name in ("speed", "quant", "image", "audio", "train"):
    entry = load(out / f"{name}.phase") or {"status": None}
    if name in ("speed", "quant"):
        entry["result"] = load(out / f"{name}.json")
    elif name in ("image", "audio"):
        entry["result"] = load(out / f"{name}.out")  # the JSON the command printed
    else:
        entry["result"] = load(out / "train-image" / "metrics.json")
    report["phases"][name] = entry
speed = report["phases"]["speed"]["result"] or {}
report["ratios"] = {
    case["what"]: (case["rust"] / case["torch"] if case.get("torch") else None)
    for case in speed.get("cases", [])
}
(out / "gpu-bench.json").write_text(json.dumps(report, indent=2) + "\n")
print(json.dumps(report["ratios"], indent=2))
print(f"wrote {out / 'gpu-bench.json'}", file=sys.stderr)
EOF
