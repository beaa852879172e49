#!/usr/bin/env bash
#SBATCH --job-name=harness-eval
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=32
# Multi-node: sbatch scripts/slurm_multinode.sh --tasks mvbench,videomme --model-args path=/ckpt --data-root /data
# One torchrun per node, rendezvous on the first node (c10d). --output-dir must be on a filesystem
# every node sees (rank files are merged by rank 0).
set -euo pipefail
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
HEAD=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
srun torchrun --nnodes="$SLURM_NNODES" --nproc_per_node="$GPUS_PER_NODE" \
  --rdzv_id="$SLURM_JOB_ID" --rdzv_backend=c10d --rdzv_endpoint="$HEAD:29500" \
  -m harness run "$@"
