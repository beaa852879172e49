"""Per-sample JSONL files: append-as-you-go, crash-tolerant reads, atomic rewrites.

A process killed mid-write leaves at most one partial last line. Readers skip it (and say so);
writers truncate it before appending, so the sample it held is simply redone.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Self

from .errors import DataError, HarnessError, WriteError


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


def index_keys(path: Path, unreadable: list[int] | None = None) -> Iterator[tuple[str, int, int]]:
    """(key, byte offset, length) of each complete record, in file order: lets a merge copy lines
    without holding records in memory. Streamed, so the caller keeps the only index. The numbers of
    complete lines that hold no readable record are appended to `unreadable` when given."""
    for key, offset, length, _ in index_records(path, unreadable):
        yield key, offset, length


def index_records(path: Path, unreadable: list[int] | None = None) -> Iterator[tuple[str, int, int, bool]]:
    """index_keys, with whether each record failed on the model's endpoint (`transient`: a rerun
    computes it again)."""
    if not path.exists():
        return
    offset = 0
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            if not raw.endswith(b"\n"):
                return
            try:
                rec = json.loads(raw)
                key, transient = rec.get("key"), rec.get("transient") is True
            except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
                key, transient = None, False
            if isinstance(key, str):
                yield key, offset, len(raw), transient
            elif unreadable is not None:
                unreadable.append(number)
            offset += len(raw)


def check_records(path: Path) -> int:
    """Read a finished samples file strictly: every line a complete JSON record with a string `id`,
    no id twice. Returns the number of records; a DataError names the file and the line otherwise
    (`harness score` refuses such a file rather than rewrite a record away)."""
    hint = ("the file was changed after the run: restore it, or rerun the same `harness run` command into this "
            "directory (it recomputes only the samples without a readable record)")
    if not path.is_file():
        raise DataError("the samples file is missing", file=str(path), hint=hint)
    seen: dict[str, int] = {}
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            if not raw.endswith(b"\n"):
                raise DataError(f"line {number} is cut short (no end of line)", file=str(path), hint=hint)
            try:
                rec = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise DataError(f"line {number} is not valid JSON ({e})", file=str(path), hint=hint) from None
            sid = rec.get("id") if isinstance(rec, dict) else None
            if not isinstance(sid, str):
                raise DataError(f"line {number} is not a sample record (no string `id`)", file=str(path), hint=hint)
            if sid in seen:
                raise DataError(f"line {number} repeats sample {sid!r} of line {seen[sid]}", file=str(path), hint=hint)
            seen[sid] = number
    return len(seen)


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
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _truncate_torn_tail(path)
            self._f = open(path, "a", encoding="utf-8")  # noqa: SIM115 - held for the writer's life, closed by close()/__exit__
        except OSError as e:
            raise WriteError(path, e) from None
        self._fsync_every = fsync_every
        self._last_sync = time.monotonic()

    def write(self, record: dict[str, Any]) -> None:
        """Append one line. A failed write (a full disk) is a WriteError naming the file; at most a part
        of this line reaches it, which readers skip and the next writer cuts."""
        try:
            self._f.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
            self._f.flush()
            if time.monotonic() - self._last_sync > self._fsync_every:
                os.fsync(self._f.fileno())
                self._last_sync = time.monotonic()
        except OSError as e:
            raise WriteError(self.path, e) from None

    def close(self) -> None:
        if self._f.closed:
            return
        try:
            self._f.flush()
            os.fsync(self._f.fileno())
        except OSError as e:
            raise WriteError(self.path, e) from None
        finally:
            with contextlib.suppress(OSError):  # a buffer a full disk refused: dropped, the line redone
                self._f.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:  # already failing (a full disk, a signal): that error is the one to report
            with contextlib.suppress(HarnessError, OSError):
                self.close()


def current_umask() -> int:
    """The process umask, read without changing it where Linux says it (/proc), else set and restored."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_lines(path: Path, chunks: Iterable[str]) -> None:
    """Write text chunks via a temp file + rename: readers see the old file or the new one,
    never half; chunks are streamed, so nothing is joined in memory. The file gets the mode any
    other tool would give it (0666 less the umask), not mkstemp's private 0600."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise WriteError(path, e) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), 0o666 & ~current_umask())
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):  # the old file, if any, is untouched
            raise WriteError(path, e) from None
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_lines(path, [text])


def write_records(path: Path, records: Iterable[dict[str, Any]]) -> None:
    atomic_write_lines(path, (json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records))
