#!/usr/bin/env bash
# One node, N processes (one per GPU): scripts/torchrun_single_node.sh 8 --tasks mvbench --model-args path=/ckpt
# Every rank appends its own samples/<task>.rankR.jsonl; rank 0 merges and scores. Re-run the same
# command (any N) after a crash: only missing samples are computed.
set -euo pipefail
NPROC=${1:?usage: $0 NPROC harness-run-args...}; shift
exec torchrun --standalone --nproc_per_node="$NPROC" -m harness run "$@"
