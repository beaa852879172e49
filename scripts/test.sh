#!/usr/bin/env bash
# Install with the dev and train extras, lint, run the whole CPU test suite, then train -> eval -> gate
# the tiny model (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
HARNESS_EXTRAS="[dev,train]"
. scripts/setup_env.sh
ruff check harness tasks models tests bench
# The HTML report test renders in headless Chromium when it is installed (Debian: apt-get install chromium).
# Two workers: many tests wait on subprocesses, servers and timeouts, so two share 2 cores well.
python -m pytest -q -n 2 "$@"
# Train (the tiny recipe's last stage) -> eval -> gate (about 4 minutes on 2 cores);
# HARNESS_SKIP_TRAIN_GATE=1 skips it.
[ "${HARNESS_SKIP_TRAIN_GATE:-0}" = 1 ] || ./scripts/train_then_eval.sh runs/ci-train-then-eval
