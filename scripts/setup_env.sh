#!/usr/bin/env bash
# Create .venv (if absent) and install the harness into it. Sourced by demo.sh and test.sh.
# torch first, pinned to the CPU-capable 2.13.0: a bare `torch` requirement would pull a multi-GB
# CUDA build. GPU users: install your own torch build first; this leaves an installed torch alone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d .venv ] || python3 -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
python -c "import torch" 2>/dev/null || pip install -q "torch==2.13.0"
pip install -q -e ".${HARNESS_EXTRAS:-}"
