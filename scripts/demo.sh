#!/usr/bin/env bash
# Install, then run MVBench + Video-MME on the embedded demo sets with the shipped tiny model.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup_env.sh
harness run --tasks "${TASKS:-mvbench,videomme}" --output-dir "${OUT:-runs/demo}" "$@"
