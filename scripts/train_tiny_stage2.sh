#!/usr/bin/env bash
# Stage 2 of the tiny recipe (scripts/train_tiny.sh): the instruction mix in every benchmark's
# official prompts, from the stage-1 checkpoint (default: the shipped models/videollama2/tiny_stage1).
# This is the part CI retrains (scripts/train_then_eval.sh): about 3 minutes on 2 cores.
#   scripts/train_tiny_stage2.sh OUT [extra train args...]   (TINY_STAGE1=DIR: another stage-1 checkpoint)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="$1"
shift
. scripts/_tiny_common.sh
harness train --model_path "${TINY_STAGE1:-models/videollama2/tiny_stage1}" --data_path "$DATA/train.json" \
    --output_dir "$OUT" --max_steps "${STAGE2_STEPS:-300}" --lr_scheduler_type cosine "${common[@]}" "$@"
