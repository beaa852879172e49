#!/usr/bin/env bash
# The tiny base LLM that the tiny recipe (scripts/train_tiny.sh) starts from, as the official recipe
# starts from a pretrained LLM rather than random weights. Shipped in models/videollama2/tiny_base.
#   scripts/train_tiny_base.sh [OUT] [extra train args...]   (default OUT: models/videollama2/tiny_base)
# From random weights, text-only drills of the look-up that letter answers need: options, then a
# list of some of their texts, answered "<text> <letter>" for each. One look-up per record (the
# real answers) is too sparse a signal for a tiny LLM to find the circuit; eight per record is not,
# but when it forms varies from run to run (measured: near step 1,000 in one run, not by 1,500 in
# two others), hence many steps here, outside CI. Stage A shows the options alone
# (lookup_options.json); stage B puts half of them inside whole benchmark prompts (lookup.json),
# where the look-up carries over in a few hundred steps.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-models/videollama2/tiny_base}"
shift || true
. scripts/_tiny_common.sh
STAGEA="$(mktemp -d)"
trap 'rm -rf "$STAGEA"' EXIT
harness train --model_path tiny-random --tiny_seed 0 --data_path "$DATA/lookup_options.json" \
    --output_dir "$STAGEA" --max_steps "${BASE_A_STEPS:-4000}" --lr_scheduler_type constant "${common[@]}" "$@"
harness train --model_path "$STAGEA" --data_path "$DATA/lookup.json" \
    --output_dir "$OUT" --max_steps "${BASE_B_STEPS:-400}" --lr_scheduler_type constant "${common[@]}" "$@"
for f in loss.csv loss.png; do cp "$STAGEA/$f" "$OUT/stageA-$f"; done
