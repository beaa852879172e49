"""Ranks and sharding. The only module that knows about ranks: tasks and models never see them.

Works under torchrun (RANK/WORLD_SIZE/LOCAL_RANK in the environment) with NCCL on GPUs and gloo
on CPUs, inside an already-initialised process group (train-then-eval), or as a single process.
Collectives are used only at start (the output directory's lock and checks, a settings check);
finished work is exchanged through per-rank files, so no rank ever blocks on a long gather.
"""

from __future__ import annotations

import logging
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from .errors import ConfigError

T = TypeVar("T")
log = logging.getLogger(__name__)


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


DEFAULT_TIMEOUT_S = 600.0
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_dies_with_launcher = False


def die_with_launcher() -> None:
    """Under torchrun, on Linux: have the kernel SIGKILL this worker when its launcher dies.

    torchrun starts every worker in a session of its own, so a launcher killed with SIGKILL (by hand, by
    the OOM killer, by a scheduler that signals only it) would leave its workers running: inferring into
    the output directory behind a rerun's back, or, in start-up, waiting out the process-group timeout
    for a store that is gone. prctl(PR_SET_PDEATHSIG) ties each worker's life to its parent. SIGKILL, not
    SIGTERM: a worker blocked in a collective runs no Python handler; the rank files are the resume
    point and tolerate a kill at any moment. Called first thing by `harness` (and again when joining the
    process group); a no-op outside torchrun (TORCHELASTIC_RUN_ID unset) and off Linux.
    """
    global _dies_with_launcher
    if _dies_with_launcher or "TORCHELASTIC_RUN_ID" not in os.environ or not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    except (OSError, AttributeError) as e:
        log.warning("cannot tie this worker to its launcher (prctl: %s): killing torchrun alone may leave it "
                    "running", e)
        return
    _dies_with_launcher = True
    if os.getppid() == 1:  # the launcher died before we asked: there is no one left to follow
        os.kill(os.getpid(), signal.SIGKILL)


def process_group_timeout(seconds: float | None = None) -> timedelta:
    """How long a collective (joining the group included) waits for a rank that does not come: `seconds`
    (--dist-timeout), else HARNESS_DIST_TIMEOUT (seconds), else 10 minutes. The collectives are at start
    (the output directory's lock and checks, a settings check), after the model load only when the
    adapter cannot describe itself without loading; raise it for such a model that loads slowly."""
    source = "--dist-timeout"
    if seconds is None:
        raw = os.environ.get("HARNESS_DIST_TIMEOUT")
        source = f"HARNESS_DIST_TIMEOUT={raw!r}"
        try:
            seconds = float(raw) if raw else DEFAULT_TIMEOUT_S
        except ValueError:
            seconds = -1.0
    if not math.isfinite(seconds) or seconds <= 0:
        raise ConfigError(f"{source}: the process-group timeout must be a number of seconds > 0")
    return timedelta(seconds=seconds)


def init_from_env(timeout_s: float | None = None) -> DistContext:
    """Join the process group torchrun describes (or reuse one already initialised). A rank that does not
    join or answer within `process_group_timeout(timeout_s)` fails the run on every rank."""
    timeout = process_group_timeout(timeout_s)
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return DistContext(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    die_with_launcher()
    import torch

    backend = "nccl" if torch.cuda.is_available() else "gloo"
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend=backend, timeout=timeout)
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
