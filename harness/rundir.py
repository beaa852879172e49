"""The output directory: one run at a time, and only one run's files in it.

Lock. A run (and `harness score`) holds an exclusive `fcntl.flock` on OUTDIR/.harness.lock from
start to end; the file names the holder (pid, host, start time, command line). A second run into
the directory is refused at once (OutputDirError, exit 2) with the holder's name. There is no stale
lock to clean up: the kernel drops a flock when its holder exits or is killed (SIGKILL and OOM
included), so a lock whose process is gone is free; the next run only notes that the previous one
did not finish (its details are still in the file). The file itself is never deleted (deleting a
lock file races with a process that has just opened it), only emptied on a clean release.

Under torchrun rank 0 takes the lock and broadcasts the outcome, so every rank of a refused run
raises the same error at once instead of waiting in a later collective. Inside a training job that
calls evaluate(), the same happens in its process group. Within one process the lock is re-entrant
(`harness run` takes it before planning, evaluate() takes it again).

Contents. Before a run plans, rank 0 checks what the directory holds (`claim`): results.json of
another model (by fingerprint), or results/samples of tasks the run does not include, are refused
unless --overwrite, which first removes every file an earlier run wrote (results.json, results.md,
samples/, submissions/). results.json therefore always describes every results file in the directory.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import re
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from . import dist
from .errors import DataError, HarnessError, OutputDirError, WriteError
from .paths import ensure_writable_dir

log = logging.getLogger(__name__)
T = TypeVar("T")

LOCK_NAME = ".harness.lock"
# samples/<task>.jsonl (merged) and samples/<task>.rank<R>.jsonl (one rank's appends)
SAMPLES_FILE = re.compile(r"^(?P<task>.+?)(?:\.rank\d+)?\.jsonl$")
TEMP_FILE = re.compile(r"^\..+\.tmp$")  # an atomic write killed before its rename (records.atomic_write_lines)


def _holder_text(raw: bytes) -> str:
    try:
        h = json.loads(raw)
        return f"pid {h['pid']} on {h['host']}, started {h['started']}: {h['command']}"
    except (ValueError, KeyError, TypeError):
        return "a process that is still starting (no details written yet)"


@dataclass
class DirLock:
    """An exclusive flock on OUTDIR/.harness.lock. `previous`: the details a holder that died left."""

    path: Path
    fd: int | None
    previous: str | None = None

    @classmethod
    def acquire(cls, outdir: Path) -> DirLock:
        ensure_writable_dir(outdir, "the output directory", "choose an --output-dir this user can write")
        path = outdir / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as e:
            raise WriteError(path, e) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_text(os.pread(fd, 1 << 16, 0))
            os.close(fd)
            raise OutputDirError(f"{outdir} is in use by another run ({holder})",
                                 hint="wait for it to finish, or use another --output-dir (a run that dies releases "
                                      "the directory by itself: there is no stale lock to remove)") from None
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):  # a filesystem without locks
                log.warning("cannot lock %s (%s): a second run into this directory would not be detected",
                            outdir, e.strerror)
                return cls(path, None)
            raise
        stale = os.pread(fd, 1 << 16, 0)
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": " ".join(sys.argv)}
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        except OSError as e:  # a full disk: nothing of this run is written yet
            os.close(fd)
            raise WriteError(path, e) from None
        return cls(path, fd, _holder_text(stale) if stale.strip() else None)

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self.fd, 0)  # a clean end: the next run finds no unfinished holder
        os.close(self.fd)  # closing the only descriptor drops the flock
        self.fd = None


def on_main(fn: Callable[[], T], ctx: dist.DistContext) -> T | None:
    """Run `fn` on rank 0 and tell every rank whether it failed: its HarnessError (an OSError becomes
    one) is raised on every rank at once, so no rank is left waiting for a run that will not happen.
    Returns fn's result on rank 0, None elsewhere."""
    result, error = None, None
    if ctx.is_main:
        try:
            result = fn()
        except HarnessError as e:
            error = e
        except OSError as e:
            error = OutputDirError(f"cannot use the output directory: {e}")
    failure = dist.broadcast(None if error is None else (str(error.args[0]) if error.args else "", error.hint), ctx)
    if error is not None:
        raise error
    if failure is not None:
        raise OutputDirError(failure[0], hint=failure[1])
    return result


_HELD: dict[str, int] = {}  # output dirs this process holds (rank 0: the flock; other ranks: rank 0's word)


@contextlib.contextmanager
def run_lock(outdir: Path, ctx: dist.DistContext) -> Iterator[None]:
    """Hold the output directory for the duration of the block (see the module's docstring)."""
    key = os.path.realpath(outdir)
    if key in _HELD:  # re-entrant: `harness run` holds it around evaluate()
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    lock = on_main(lambda: DirLock.acquire(Path(outdir)), ctx)
    if lock is not None and lock.previous:
        log.warning("the previous run in %s did not finish (%s); resuming from its files", outdir, lock.previous)
    _HELD[key] = 1
    try:
        yield
    finally:
        del _HELD[key]
        if lock is not None:
            lock.release()


def samples_by_task(outdir: Path) -> dict[str, list[Path]]:
    """Task name -> its files under samples/ (the merged file and any rank files)."""
    out: dict[str, list[Path]] = {}
    folder = outdir / "samples"
    if folder.is_dir():
        for p in sorted(folder.iterdir()):
            m = SAMPLES_FILE.match(p.name)
            if m and p.is_file():
                out.setdefault(m["task"], []).append(p)
    return out


def previous_results(outdir: Path) -> dict[str, Any] | None:
    """The directory's results.json, None when there is none (a DataError when it is unreadable)."""
    from .results import load_results

    return load_results(outdir) if (outdir / "results.json").exists() else None


def run_files(outdir: Path) -> list[Path]:
    """Every file a run writes into its output directory (the lock file aside)."""
    files = [outdir / n for n in ("results.json", "results.md") if (outdir / n).exists()]
    files += [p for ps in samples_by_task(outdir).values() for p in ps]
    if (outdir / "submissions").exists():
        files.append(outdir / "submissions")
    return files + leftovers(outdir)


def leftovers(outdir: Path) -> list[Path]:
    """Temp files of atomic writes killed before their rename: never read, safe to remove under the lock."""
    return [p for d in (outdir, outdir / "samples") if d.is_dir() for p in d.iterdir()
            if TEMP_FILE.match(p.name) and p.is_file()]


def claim(outdir: Path, fingerprint: str, model_name: str, tasks: list[str], overwrite: bool) -> list[str]:
    """Rank 0, holding the lock, before planning: refuse a directory that holds another model's
    results or tasks this run leaves out (unless `overwrite`: then remove every earlier run file
    first). Also removes temp files of killed atomic writes. Returns what was removed."""
    problems, replace = [], False
    try:
        old = previous_results(outdir)
    except DataError as e:
        old, replace = None, True
        problems.append(str(e))
    if old is not None:
        model = old.get("model") or {}
        if model.get("fingerprint") != fingerprint:
            replace = True
            problems.append(f"{outdir} holds the results of model {model.get('name')!r} (fingerprint "
                            f"{model.get('fingerprint')}), not of this run's {model_name!r} (fingerprint {fingerprint})")
    others = sorted((set((old or {}).get("tasks") or {}) | set(samples_by_task(outdir))) - set(tasks))
    if others:
        problems.append(f"{outdir} holds results of task(s) {', '.join(others)} that this run does not include "
                        "(results.json would no longer describe them)")
    if problems and not overwrite:
        hint = ("pass --overwrite to replace them (the earlier run's files are removed first), or use another "
                "--output-dir") if replace else (f"add {', '.join(others)} to --tasks (their finished samples are "
                                                 "reused), pass --overwrite to discard them, or use another --output-dir")
        raise OutputDirError("; ".join(problems), hint=hint)
    removed = []
    for p in run_files(outdir) if overwrite else leftovers(outdir):
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink(missing_ok=True)
        removed.append(str(p.relative_to(outdir)))
    if overwrite and removed:
        log.warning("--overwrite: removed the earlier run's files from %s: %s", outdir, ", ".join(removed))
    return removed
