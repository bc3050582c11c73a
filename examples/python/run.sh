#!/bin/sh
# Builds examples/bce.loss and examples/focal.loss into shared libraries with lossc and runs
# train_logreg.py on them; then builds the ranking loss examples/ap_loss.loss and runs
# ap_loss_ctypes.py (the C kernel against a numpy transcription of the official AP_loss).
# Skips (exit 0, with a message) when python3 or numpy is missing, or when there is no C
# compiler. Usage: examples/python/run.sh  (from anywhere)
set -eu
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1; then
    echo "examples/python: SKIPPED (no python3 on PATH)"; exit 0
fi
if ! "$PY" -c 'import numpy' >/dev/null 2>&1; then
    echo "examples/python: SKIPPED (python3 has no numpy; pip install numpy to run it)"; exit 0
fi
if ! command -v "${CC:-cc}" >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1 && ! command -v clang >/dev/null 2>&1; then
    echo "examples/python: SKIPPED (no C compiler)"; exit 0
fi
LOSSC=${LOSSC:-.build/debug/lossc}
[ -x "$LOSSC" ] || { swift build >/dev/null; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT INT TERM
# Built for this machine (-march=native); without --flags the library is portable.
FLAGS="-O3 -fno-math-errno -std=c99 -march=native"
"$LOSSC" build examples/bce.loss -o "$OUT/libbce.so" --flags "$FLAGS"
"$LOSSC" build examples/focal.loss -o "$OUT/libfocal.so" --flags "$FLAGS"
"$PY" examples/python/train_logreg.py "$OUT/libbce.so" "$OUT/libfocal.so"
"$LOSSC" build examples/ap_loss.loss -o "$OUT/libap_loss.so" --flags "$FLAGS"
"$PY" examples/python/ap_loss_ctypes.py "$OUT/libap_loss.so"
