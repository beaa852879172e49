"""Per-sample JSONL files: append-as-you-go, crash-tolerant reads, atomic rewrites.

A process killed mid-write leaves at most one partial last line. Readers skip it (and say so);
writers truncate it before appending, so the sample it held is simply redone.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Self


def read_records(path: Path) -> list[dict[str, Any]]:
    """All complete records of a JSONL file; a torn last line is ignored. Missing file -> []."""
    if not path.exists():
        return []
    out = []
    with open(path, "rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                break  # torn write: the sample is redone by the next run
            try:
                out.append(json.loads(raw))
            except json.JSONDecodeError:
                continue  # a corrupt line is never trusted; its sample is redone
    return out


def iter_records(path: Path) -> Iterator[dict[str, Any]]:
    """Stream the complete records of a JSONL file (same tolerance as read_records)."""
    if not path.exists():
        return
    with open(path, "rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                return
            try:
                yield json.loads(raw)
            except json.JSONDecodeError:
                continue


def index_keys(path: Path) -> Iterator[tuple[str, int, int]]:
    """(key, byte offset, length) of each complete record, in file order: lets a merge copy lines
    without holding records in memory. Streamed, so the caller keeps the only index."""
    if not path.exists():
        return
    offset = 0
    with open(path, "rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                return
            try:
                key = json.loads(raw).get("key")
            except (json.JSONDecodeError, AttributeError):
                key = None
            if isinstance(key, str):
                yield key, offset, len(raw)
            offset += len(raw)


def _truncate_torn_tail(path: Path) -> None:
    """Cut a partial last line so the next append starts on a fresh line."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb+") as f:
        data = f.read()
        if data.endswith(b"\n"):
            return
        f.truncate(data.rfind(b"\n") + 1)


class RecordWriter:
    """Appends one JSON line per finished sample and flushes it, so a killed process loses at most
    the line being written. fsync (machine crash) at most once per `fsync_every` seconds: one per
    sample would cost more than the sample on fast models."""

    def __init__(self, path: Path, fsync_every: float = 2.0):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        _truncate_torn_tail(path)
        self._f = open(path, "a", encoding="utf-8")  # noqa: SIM115 - held for the writer's life, closed by close()/__exit__
        self._fsync_every = fsync_every
        self._last_sync = time.monotonic()

    def write(self, record: dict[str, Any]) -> None:
        self._f.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        self._f.flush()
        if time.monotonic() - self._last_sync > self._fsync_every:
            os.fsync(self._f.fileno())
            self._last_sync = time.monotonic()

    def close(self) -> None:
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def atomic_write_lines(path: Path, chunks: Iterable[str]) -> None:
    """Write text chunks via a temp file + rename: readers see the old file or the new one,
    never half; chunks are streamed, so nothing is joined in memory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_lines(path, [text])


def write_records(path: Path, records: Iterable[dict[str, Any]]) -> None:
    atomic_write_lines(path, (json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records))
