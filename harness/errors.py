"""Typed errors. A HarnessError is a user-facing problem: the CLI prints it without a traceback."""

from __future__ import annotations


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


class ModelLoadError(HarnessError):
    """A checkpoint that cannot be loaded: missing shards, wrong shapes, unknown types."""


class JudgeError(HarnessError):
    """Judge misconfiguration (missing credentials, bad endpoint) found before inference."""
