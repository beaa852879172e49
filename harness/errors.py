"""Typed errors. A HarnessError is a user-facing problem: the CLI prints it without a traceback."""

from __future__ import annotations

import errno


class HarnessError(Exception):
    """A problem the user can fix. `hint` says how."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:  # message, then the fix on its own line
        base = super().__str__()
        return f"{base}\n  hint: {self.hint}" if self.hint else base


class ConfigError(HarnessError):
    """Bad CLI argument, model arg, frame policy or task name."""


class DataError(HarnessError):
    """A bad annotation file, record or video. Names the file and the record."""

    def __init__(self, message: str, file: str | None = None, record: str | None = None, hint: str | None = None):
        where = ", ".join(p for p in (f"file {file}" if file else "", f"record {record}" if record else "") if p)
        super().__init__(f"{message} ({where})" if where else message, hint)
        self.file = file
        self.record = record


class VideoError(DataError):
    """A video that is missing, corrupt, empty or cannot be decoded."""


class OutputDirError(HarnessError):
    """An output directory this run must not write: another run holds it, or it holds another model's or
    another run's results (see harness.rundir)."""


class WriteError(HarnessError):
    """A file or folder the run must write cannot be: a read-only or full filesystem, no permission, a
    path component that is a regular file. Names the path and says why (the OS's words)."""

    def __init__(self, path: object, error: OSError | str, what: str = "", hint: str | None = None):
        reason = error if isinstance(error, str) else (error.strerror or str(error))
        super().__init__(f"cannot write {what + ' ' if what else ''}{path}: {reason}", hint or write_hint(error))
        self.path = path


def write_hint(error: OSError | str) -> str:
    """What to do about an OSError from a write."""
    code = getattr(error, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT):
        return "free space on that filesystem (or choose another place), then rerun the same command: what was " \
               "written before it filled up is kept"
    return "choose a place this user can write"


class Terminated(BaseException):
    """SIGTERM arrived (harness.cli turns the signal into this). A BaseException, like KeyboardInterrupt,
    so no `except Exception` on the way swallows it: the stack unwinds, files are closed and the output
    directory released, and the CLI exits 143."""


class ModelLoadError(HarnessError):
    """A checkpoint that cannot be loaded: missing shards, wrong shapes, unknown types."""


class ModelError(HarnessError):
    """A model that cannot answer any request (its endpoint refused the key, no such model or deployment,
    generation settings it cannot honour): raised from generate(), it stops the run instead of failing
    every sample one by one."""


class JudgeError(HarnessError):
    """Judge misconfiguration (missing credentials, bad endpoint) found before inference."""
