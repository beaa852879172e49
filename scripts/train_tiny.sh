#!/usr/bin/env bash
# The whole recipe of the shipped tiny model, from the tiny base LLM (models/videollama2/tiny_base,
# made by scripts/train_tiny_base.sh): two training stages on CPU over the synthetic training set.
#   scripts/train_tiny.sh [OUT] [extra train args...]   (default OUT: models/videollama2/tiny_default)
# Stage 1 (grounding): open-ended questions only, so answers must come from the video. On the full
#   mix from the start the tiny model learns each question's answer prior and stops using the video;
#   a fast connector makes it worse (its output collapses to a constant), hence the connector's own,
#   lower learning rate in both stages. Its checkpoint is kept beside OUT as tiny_stage1/ (shipped as
#   models/videollama2/tiny_stage1: CI retrains stage 2 from it, scripts/train_then_eval.sh).
# Stage 2 (instruction mix, scripts/train_tiny_stage2.sh): every benchmark's official prompts,
#   multiple-choice and open, multi-turn.
# Both keep a tenth of the base's look-up drills in their data so the look-up is not forgotten.
# Deterministic for a given machine and torch build (seeded data, init and order). Run inside the
# installed environment (scripts/setup_env.sh). Extra args go to both stages, e.g. --shuffle_answers
# (a deliberately broken run); TINY_BASE=DIR starts from another base.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-models/videollama2/tiny_default}"
shift || true
. scripts/_tiny_common.sh
STAGE1="$(dirname "$OUT")/tiny_stage1"
harness train --model_path "${TINY_BASE:-models/videollama2/tiny_base}" --data_path "$DATA/grounding.json" \
    --output_dir "$STAGE1" --max_steps "${STAGE1_STEPS:-400}" --lr_scheduler_type constant "${common[@]}" "$@"
TINY_STAGE1="$STAGE1" ./scripts/train_tiny_stage2.sh "$OUT" "$@"
for f in loss.csv loss.png; do cp "$STAGE1/$f" "$OUT/stage1-$f"; done
