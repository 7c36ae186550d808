#!/usr/bin/env bash
# GPU benchmarks (issue 19): training (cislens float32 and mixed_float16 vs PyTorch) and attribution maps
# (cislens vs tangermeme/captum), every worker on the GPU. Run from the repository root on a GPU machine:
#
#     bash benchmarks/gpu.sh            # N_TRAIN=30000 EPOCHS=3 ROUNDS=2 by default
#     N_TRAIN=6000 ROUNDS=1 bash benchmarks/gpu.sh
#
# The project's .venv has tensorflow-cpu (the pinned default), which never sees a GPU, so this script
# builds (once; again when requirements.txt changes) its own venv, .gpu-venv (GPU_VENV=...), with
# requirements.txt's pins except tensorflow-cpu -> tensorflow[and-cuda] of the same version, and cislens
# installed editable from this checkout. .venv is not touched. The logs go to benchmarks/out/gpu-*.log; the
# last lines are the ratio lines of both benchmarks (train:, train_mixed_float16:, attribution:).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${GPU_VENV:-.gpu-venv}
PYTHON=${PYTHON:-python3}
N_TRAIN=${N_TRAIN:-30000}
EPOCHS=${EPOCHS:-3}
ROUNDS=${ROUNDS:-2}
OUT=benchmarks/out
STAMP=$VENV/.cislens-gpu-installed

if ! command -v nvidia-smi > /dev/null; then
    echo "gpu.sh: nvidia-smi not found: run this on a machine with an NVIDIA GPU and its driver" >&2
    exit 1
fi
echo "GPU: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -n 1)"

tf_version=$(sed -n 's/^tensorflow-cpu==\([^[:space:]#]*\).*/\1/p' requirements.txt)
if [ -z "$tf_version" ]; then
    echo "gpu.sh: no tensorflow-cpu pin in requirements.txt" >&2
    exit 1
fi
if [ ! -f "$STAMP" ] || [ requirements.txt -nt "$STAMP" ]; then
    echo "building $VENV (tensorflow[and-cuda]==$tf_version and the other pins of requirements.txt)"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --disable-pip-version-check -q --upgrade pip
    grep -v '^tensorflow-cpu==' requirements.txt > "$VENV/requirements-gpu.txt"
    echo "tensorflow[and-cuda]==$tf_version" >> "$VENV/requirements-gpu.txt"
    "$VENV/bin/pip" install --disable-pip-version-check -q -r "$VENV/requirements-gpu.txt"
    "$VENV/bin/pip" install --disable-pip-version-check -q --no-deps -e .
    touch "$STAMP"
fi

export TF_CPP_MIN_LOG_LEVEL=2 NUMBA_CACHE_DIR="$PWD/.numba_cache"
unset CUDA_VISIBLE_DEVICES  # the benchmarks hide the GPU from their workers unless --device gpu
devices=$("$VENV/bin/python" -c 'from cislens.runtime import device_line; print(device_line())')
echo "TensorFlow $devices"
"$VENV/bin/python" -c 'import torch; print("PyTorch", torch.__version__, "cuda:", torch.cuda.is_available())'
case "$devices" in
    *GPU:*) ;;
    *) echo "gpu.sh: TensorFlow in $VENV sees no GPU (CUDA libraries or driver?)" >&2; exit 1 ;;
esac

mkdir -p "$OUT"
"$VENV/bin/python" benchmarks/train.py --device gpu --variants mixed \
    --n "$N_TRAIN" --epochs "$EPOCHS" --rounds "$ROUNDS" | tee "$OUT/gpu-train.log"
"$VENV/bin/python" benchmarks/attribution.py --device gpu --rounds "$ROUNDS" | tee "$OUT/gpu-attribution.log"

echo
echo "ratio lines (GPU: $(nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1)):"
grep -hE '^(train|train_mixed_float16|attribution): ' "$OUT/gpu-train.log" "$OUT/gpu-attribution.log"
