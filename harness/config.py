"""Run configuration: one dataclass, built by the CLI or by callers of `evaluate()`."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
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


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _integer(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# The generation settings --gen-kwargs accepts: what the adapters pass on to transformers' generate()
# (the seed's own settings are do_sample, max_new_tokens, temperature, top_p), and `seed`, which seeds
# sampling. name -> (is the value acceptable, what it must be).
GEN_KWARGS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "do_sample": (lambda v: isinstance(v, bool), "true or false"),
    "max_new_tokens": (lambda v: _integer(v) and v >= 1, "an integer >= 1"),
    "temperature": (lambda v: _number(v) and v >= 0, "a number >= 0 (> 0 with do_sample=true)"),
    "top_p": (lambda v: _number(v) and 0 < v <= 1, "a number in (0, 1]"),
    "top_k": (lambda v: _integer(v) and v >= 0, "an integer >= 0 (0: no top-k filter)"),
    "num_beams": (lambda v: _integer(v) and v >= 1, "an integer >= 1"),
    "repetition_penalty": (lambda v: _number(v) and v > 0, "a number > 0 (1: none)"),
    "seed": (lambda v: _integer(v) and v >= 0, "an integer >= 0"),
}


def check_gen_kwargs(gen: dict[str, Any]) -> None:
    """Refuse a generation setting that no adapter takes, or a value generate() would reject."""
    import difflib

    for key, value in gen.items():
        if key not in GEN_KWARGS:
            close = difflib.get_close_matches(key, GEN_KWARGS, n=1)
            raise ConfigError(f"unknown --gen-kwargs key {key!r}", hint=(f"did you mean {close[0]!r}? " if close else "")
                              + "known: " + ", ".join(GEN_KWARGS))
        ok, want = GEN_KWARGS[key]
        if not ok(value):
            raise ConfigError(f"--gen-kwargs {key}={value!r}: must be {want}")
    if gen.get("do_sample") and gen.get("temperature") == 0:
        raise ConfigError("--gen-kwargs do_sample=true with temperature=0",
                          hint="sampling needs a temperature > 0; for greedy decoding drop do_sample")


@dataclass
class RunConfig:
    """Everything that shapes a run besides the model and the task list.

    `frames`: override of the frame policy (else the model's, else the task's default).
    `task_options`: per task name, options such as {"videomme": {"subtitles": True}}.
    `splits`: per task name, a split other than the task's default.
    `overwrite`: the output directory may hold another model's results or other tasks: every file
    of the earlier run is removed first (else such a directory is refused; harness.rundir).
    `allow_roots`: folders outside the data root that annotation paths may reach through symlinks
    (a Hugging Face hub cache's blobs; harness.paths.safe_join).
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
    allow_roots: list[Path] = field(default_factory=list)

    def check(self) -> RunConfig:
        """Refuse settings that cannot mean what they say (ConfigError naming the flag); returns self."""
        if self.limit is not None and (not _integer(self.limit) or self.limit < 1):
            raise ConfigError(f"--limit {self.limit}: must be a whole number >= 1",
                              hint="leave --limit out to run every sample")
        for flag, rate in (("--max-error-rate", self.max_error_rate), ("--max-unscored-rate", self.max_unscored_rate)):
            if not _number(rate) or not 0 <= rate <= 1:
                raise ConfigError(f"{flag} {rate}: must be a share between 0 and 1",
                                  hint="0: no sample may fail (the default); 1: any number may")
        if not _integer(self.decode_workers) or self.decode_workers < 1:
            raise ConfigError(f"--decode-workers {self.decode_workers}: must be a whole number >= 1")
        check_gen_kwargs(self.gen_kwargs)
        for d in self.allow_roots:
            if not Path(d).is_dir():
                raise ConfigError(f"--allow-root {d}: no such folder")
        return self

    def public(self) -> dict[str, Any]:
        """What goes into results.json."""
        return {"data_root": str(self.data_root) if self.data_root else None, "limit": self.limit,
                "seed": self.seed, "gen_kwargs": self.gen_kwargs,
                "frames": str(self.frames) if self.frames else None, "task_options": self.task_options,
                "splits": self.splits, "predict_only": self.predict_only,
                "allow_roots": [str(d) for d in self.allow_roots],
                "max_error_rate": self.max_error_rate, "max_unscored_rate": self.max_unscored_rate}
