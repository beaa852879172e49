# Sourced by scripts/train_tiny_base.sh and scripts/train_tiny.sh: the synthetic training set (built
# once per cache folder) and the arguments every training stage shares.
DATA="${HARNESS_CACHE:-$HOME/.cache/harness}/trainset-v7"
[ -f "$DATA/.complete" ] || { rm -rf "$DATA"; harness trainset "$DATA" --videos 3000 --seed 0 && touch "$DATA/.complete"; }
common=(--use_cpu --seed 0 --data_seed 0 --dataloader_num_workers 0 --cache_frames
        --per_device_train_batch_size 32 --learning_rate 2e-3 --mm_projector_lr 1e-4 --weight_decay 0.0
        --warmup_steps 30 --logging_steps 10 --save_strategy no --disable_tqdm true)
