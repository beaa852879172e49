#!/usr/bin/env bash
# Install with the dev and train extras, then run the whole CPU test suite (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
HARNESS_EXTRAS="[dev,train]"
. scripts/setup_env.sh
# The HTML report test renders in headless Chromium when it is installed (Debian: apt-get install chromium).
python -m pytest -q "$@"
