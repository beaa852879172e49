#!/usr/bin/env bash
# The tests that need torchvision (pytest marker `torchvision`: the hf adapter's video path, through
# transformers' video processors). PyPI's torchvision wheels are CUDA builds that do not load with the CPU
# torch of .venv, so these run in a second environment, .venv-cuda: torch 2.14.1 (a CUDA build, which
# runs on a CPU without a GPU) and torchvision 0.29.1, plus the harness and its dev extra. Created on first
# use (about 6 GB; a few minutes), reused after; the harness is reinstalled when pyproject.toml changes.
# Extra arguments go to pytest. HF_VIDEO_VENV names another folder for the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${HF_VIDEO_VENV:-.venv-cuda}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import torch, torchvision" 2>/dev/null ||
  "$VENV/bin/pip" install -q "torch==2.14.1" "torchvision==0.29.1"
stamp="$VENV/.harness-pyproject.sha256"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || ! "$VENV/bin/python" -c "import harness" 2>/dev/null; then
  "$VENV/bin/pip" install -q -e ".[dev]"
  echo "$want" > "$stamp"
fi
"$VENV/bin/python" -m pytest -q -m torchvision "$@"
