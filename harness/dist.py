"""Ranks and sharding. The only module that knows about ranks: tasks and models never see them.

Works under torchrun (RANK/WORLD_SIZE/LOCAL_RANK in the environment) with NCCL on GPUs and gloo
on CPUs, inside an already-initialised process group (train-then-eval), or as a single process.
Collectives are used only at start (the output directory's lock and checks, a settings check);
finished work is exchanged through per-rank files, so no rank ever blocks on a long gather.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from .errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1


def init_from_env() -> DistContext:
    """Join the process group torchrun describes (or reuse one already initialised)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return DistContext(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    import torch

    backend = "nccl" if torch.cuda.is_available() else "gloo"
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    # The only collective is the settings check at start; a generous timeout covers slow model loads.
    dist.init_process_group(backend=backend, timeout=timedelta(hours=2))
    return DistContext(dist.get_rank(), dist.get_world_size(), local_rank)


def shard(items: Sequence[T], ctx: DistContext) -> list[T]:
    """Round-robin over a list every rank built identically (sorted by stable sample id).

    Only pending items are sharded, so after a resume the remaining work is balanced across
    however many ranks the rerun has.
    """
    return list(items[ctx.rank::ctx.world_size])


def all_gather(obj: Any, ctx: DistContext) -> list[Any]:
    if not ctx.active:
        return [obj]
    import torch.distributed as dist

    out: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(out, obj)
    return out


def check_same_settings(settings: dict[str, Any], ctx: DistContext) -> None:
    """Refuse to start when ranks were launched with different settings (model args, tasks...)."""
    gathered = all_gather(settings, ctx)
    for rank, other in enumerate(gathered):
        if other != settings:
            diff = sorted(k for k in set(settings) | set(other) if settings.get(k) != other.get(k))
            raise ConfigError(f"rank {ctx.rank} and rank {rank} were started with different settings: {diff}",
                              hint="launch every rank with the same command line")


def barrier(ctx: DistContext) -> None:
    if ctx.active:
        import torch.distributed as dist

        dist.barrier()


def broadcast(obj: Any, ctx: DistContext, src: int = 0) -> Any:
    """Rank `src`'s object, on every rank (one collective; a no-op in a single process)."""
    if not ctx.active:
        return obj
    import torch.distributed as dist

    box = [obj if ctx.rank == src else None]
    dist.broadcast_object_list(box, src=src)
    return box[0]
