#!/usr/bin/env bash
# Train -> evaluate -> gate, end to end on the tiny model (what CI runs after the tests).
#   scripts/train_then_eval.sh [OUT] [extra train args...]   (default OUT: runs/train-then-eval)
# Trains the last stage of the tiny recipe again (scripts/train_tiny_stage2.sh, from the shipped
# stage-1 checkpoint models/videollama2/tiny_stage1), evaluates the new checkpoint on the MVBench,
# Video-MME and ActivityNet-QA (exact match, no judge) demo sets, then gates it against the stored
# baseline run of the shipped model (results/baselines/tiny-default) with the spec in
# results/gates/tiny.toml. Exit 0 = pass. The whole recipe from the base: scripts/train_tiny.sh.
# Writes OUT/gate.md (a CI job summary) and OUT/gate.xml (JUnit). Example of a failing run:
#   scripts/train_then_eval.sh runs/broken --shuffle_answers
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-runs/train-then-eval}"
shift || true
rm -rf "$OUT"
./scripts/train_tiny_stage2.sh "$OUT/checkpoint" "$@"
harness run --model videollama2 --model-args "path=$OUT/checkpoint" --tasks mvbench,videomme,activitynet_qa \
    --task-args activitynet_qa:scoring=exact --output-dir "$OUT/eval" --no-progress
status=0
harness gate "$OUT/eval" --spec results/gates/tiny.toml --baseline results/baselines/tiny-default \
    --summary "$OUT/gate.md" --junit "$OUT/gate.xml" || status=$?
[ -n "${GITHUB_STEP_SUMMARY:-}" ] && cat "$OUT/gate.md" >> "$GITHUB_STEP_SUMMARY"
exit "$status"
