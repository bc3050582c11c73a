#!/usr/bin/env bash
# Creates .venv (git-ignored) with what lossc's Python side uses: torch, torchvision, pycocotools,
# numpy, pytest and ray, installed by name with pip (nothing vendored, nothing else downloaded).
# The standard torch wheel pulls ~5 GB of CUDA libraries on a fresh machine (several minutes);
# pip's cache makes a rerun take seconds. Usage: scripts/python-env.sh  (from anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check \
    torch torchvision pycocotools numpy pytest ray
if [ -f python/pyproject.toml ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e ./python
fi
.venv/bin/python -c 'import torch, torchvision; print("python env: torch", torch.__version__, "torchvision", torchvision.__version__)'
