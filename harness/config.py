"""Run configuration: one dataclass, built by the CLI or by callers of `evaluate()`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .types import FramePolicy


def parse_kv(spec: str | None, what: str) -> dict[str, Any]:
    """`k=v,k2=v2` -> dict, values JSON-decoded when they parse (numbers, true/false), else str."""
    out: dict[str, Any] = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"bad {what} item {part!r}", hint=f"{what} takes key=value pairs separated by commas")
        value = value.strip()
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


@dataclass
class RunConfig:
    """Everything that shapes a run besides the model and the task list.

    `frames`: override of the frame policy (else the model's, else the task's default).
    `task_options`: per task name, options such as {"videomme": {"subtitles": True}}.
    `splits`: per task name, a split other than the task's default.
    `overwrite`: the output directory may hold another model's results or other tasks: every file
    of the earlier run is removed first (else such a directory is refused; harness.rundir).
    """

    output_dir: Path
    data_root: Path | None = None
    limit: int | None = None
    seed: int = 1234
    gen_kwargs: dict[str, Any] = field(default_factory=dict)
    frames: FramePolicy | None = None
    task_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    splits: dict[str, str] = field(default_factory=dict)
    judge_spec: str | None = None
    predict_only: bool = False
    max_error_rate: float = 0.0
    max_unscored_rate: float = 0.0
    decode_workers: int = 4
    merge_timeout: float = 3600.0
    progress: bool = True
    overwrite: bool = False

    def public(self) -> dict[str, Any]:
        """What goes into results.json."""
        return {"data_root": str(self.data_root) if self.data_root else None, "limit": self.limit,
                "seed": self.seed, "gen_kwargs": self.gen_kwargs,
                "frames": str(self.frames) if self.frames else None, "task_options": self.task_options,
                "splits": self.splits, "predict_only": self.predict_only,
                "max_error_rate": self.max_error_rate, "max_unscored_rate": self.max_unscored_rate}
