#!/usr/bin/env bash
# The torch backend on a CUDA GPU: the pytest comparisons of the emitted modules (CPU and, where
# the tests take a device, CUDA), then value + gradient of the emitted focal and GIoU modules
# against torchvision's on the GPU (after checking they agree there), eager and torch.compile;
# the emitted AP-Loss and PAP modules against the official O(P*N) formulations at 1M entries.
# Under 5 minutes on one GPU. Without CUDA it says SKIPPED and exits 0.
# Usage: bench/gpu_check.sh   (from anywhere; LOSSC, else .build/release/lossc, else .build/debug/lossc)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || { echo "SKIPPED: no $PY (run scripts/python-env.sh)"; exit 0; }
if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
    echo "SKIPPED: no CUDA device (torch.cuda.is_available() is False)"
    exit 0
fi
if [ -z "${LOSSC:-}" ]; then
    for c in .build/release/lossc .build/debug/lossc; do [ -x "$c" ] && { LOSSC=$PWD/$c; break; }; done
fi
export LOSSC=${LOSSC:?build lossc first (swift build -c release) or set LOSSC}
"$PY" -c 'import torch; print("device:", torch.cuda.get_device_name(0))'
LOSSC_TORCH_DEVICE=cuda "$PY" -m pytest python/tests -q -k torch
"$PY" bench/torch_bench.py --device cuda --check --n 16000000 --reps 20
"$PY" bench/torch_ranking_bench.py --device cuda --n 1000000 --sample 100 --reps 5
