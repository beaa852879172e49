#!/usr/bin/env bash
# The recipe of the shipped tiny model: synthetic training set -> two training stages on CPU.
#   scripts/train_tiny.sh [OUT] [extra train args...]   (default OUT: models/videollama2/tiny_default)
# Stage 1 (grounding): from random weights, open-ended questions only, so answers must come from
#   the video. On the full mix from the start the tiny model learns each question's answer prior
#   and stops using the video; a fast connector makes it worse (its output collapses to a constant),
#   hence the connector's own, lower learning rate in both stages.
# Stage 2 (instruction mix): every benchmark's prompt style, multiple-choice and open, multi-turn.
# Deterministic for a given machine and torch build (seeded data, init and order). Run inside the
# installed environment (scripts/setup_env.sh). Extra args go to both stages, e.g. --shuffle_answers
# (a deliberately broken run).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-models/videollama2/tiny_default}"
shift || true
DATA="${HARNESS_CACHE:-$HOME/.cache/harness}/trainset-v4"
[ -f "$DATA/.complete" ] || { rm -rf "$DATA"; harness trainset "$DATA" --videos 3000 --seed 0 && touch "$DATA/.complete"; }
STAGE1="$(mktemp -d)"
trap 'rm -rf "$STAGE1"' EXIT
common=(--use_cpu --seed 0 --data_seed 0 --dataloader_num_workers 0 --cache_frames
        --per_device_train_batch_size 32 --learning_rate 2e-3 --mm_projector_lr 1e-4 --weight_decay 0.0
        --warmup_steps 30 --logging_steps 10 --save_strategy no --disable_tqdm true)
harness train -- --model_path tiny-random --tiny_seed 0 --data_path "$DATA/grounding.json" \
    --output_dir "$STAGE1" --max_steps "${STAGE1_STEPS:-600}" --lr_scheduler_type constant "${common[@]}" "$@"
harness train -- --model_path "$STAGE1" --data_path "$DATA/train.json" \
    --output_dir "$OUT" --max_steps "${STAGE2_STEPS:-600}" --lr_scheduler_type cosine "${common[@]}" "$@"
for f in loss.csv loss.png; do cp "$STAGE1/$f" "$OUT/stage1-$f"; done
