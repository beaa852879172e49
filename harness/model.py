"""The model adapter contract: one required method, `generate`, over a batch of neutral requests.

Every adapter subclasses ModelAdapter; every hook the runner calls is declared here with its default.
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .errors import ConfigError
from .types import FramePolicy, Request


def check_whole_number(value: Any, what: str, low: int, high: int | None = None) -> int:
    """`value` as a whole number in low..high (a model arg from the command line may arrive as a digit
    string), else a ConfigError naming it."""
    number = value
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value)
    if isinstance(number, bool) or not isinstance(number, int) or number < low or (high is not None and number > high):
        span = f"{low}..{high}" if high is not None else f">= {low}"
        raise ConfigError(f"{what}={value!r}: must be a whole number {span}")
    return number


def check_number(value: Any, what: str, low: float, *, above: bool = False) -> float:
    """`value` as a finite number >= low (> low with `above`), else a ConfigError naming it."""
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < low or (above and number == low):
        raise ConfigError(f"{what}={value!r}: must be a number {'>' if above else '>='} {low:g}")
    return number


def check_positive_int(value: Any, what: str) -> int:
    """`value` as a whole number >= 1, else a ConfigError naming it."""
    return check_whole_number(value, what, 1)


WEIGHT_FILES = ("*.safetensors", "*.json")
BIG_FILE = 64 << 20  # files this large have their content digest cached (HARNESS_CACHE/digests)


def weights_digest(path: str | Path, patterns: tuple[str, ...] = WEIGHT_FILES) -> str:
    """Hash of a checkpoint folder's files matching `patterns` (each pattern's files in name order):
    names and full contents. The default covers weights and configs; an adapter whose outputs also
    depend on other files (a chat template, a tokenizer model) names them too. A fine-tune has the
    same file sizes and index as its base, so nothing short of the bytes tells them apart; a big
    file's digest is computed once (0.8 s per GiB measured here) and cached by path, size, inode and mtime."""
    folder = Path(path)
    h = hashlib.sha256()
    for pattern in patterns:
        for f in sorted(folder.glob(pattern)):
            h.update(f.name.encode())
            h.update(f.read_bytes() if f.stat().st_size < BIG_FILE else big_file_digest(f).encode())
    return h.hexdigest()[:16]


def big_file_digest(f: Path) -> str:
    """sha256 of a big file's bytes, through a cache entry that any change to the file (rewritten in
    place, replaced, touched) misses. An unwritable cache only costs the reread."""
    st = f.stat()
    from .demo import cache_dir  # here, not at the top: harness.demo imports the task layer

    stamp = f"{f.resolve()}|{st.st_size}|{st.st_ino}|{st.st_mtime_ns}"
    entry = cache_dir() / "digests" / hashlib.sha256(stamp.encode()).hexdigest()
    try:
        cached = entry.read_text().strip()
        if len(cached) == 64:  # a whole entry (they are renamed into place)
            return cached
    except OSError:
        pass
    with open(f, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    try:  # written whole, then renamed: a concurrent rank never reads half an entry
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_name(f".{entry.name}.{os.getpid()}")
        tmp.write_text(digest)
        os.replace(tmp, entry)
    except OSError:
        pass
    return digest


@dataclass(frozen=True)
class ModelDescription:
    """What planning needs from a model, known without loading its weights: the fingerprint (part of
    every resume key), the frame policy (another part), the args as recorded, the deviations, and
    whatever `info` is known before loading. Must equal what the loaded adapter reports."""

    name: str
    args: dict[str, Any]
    fingerprint: str
    frame_policy: FramePolicy | None = None
    deviations: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 1
    needs_oracle: bool = False

    @classmethod
    def of(cls, adapter: ModelAdapter) -> ModelDescription:
        """The description of an adapter that is cheap to build (test adapters: no weights)."""
        return cls(adapter.name, dict(adapter.args), adapter.fingerprint(), adapter.frame_policy(),
                   list(adapter.deviations()), dict(adapter.info()), int(adapter.batch_size), adapter.needs_oracle)


class ModelAdapter:
    """What the runner needs from a model.

    Required: `fingerprint()` and `generate()`. The rest have defaults an adapter may override.
    """

    name: ClassVar[str] = "model"  # registry name
    # Test adapters only: the runner puts each sample's target into gen_kwargs["oracle_answer"].
    needs_oracle: ClassVar[bool] = False
    # What `harness list models` shows: each model arg with a one-line description (default, range).
    model_args: ClassVar[dict[str, str]] = {}
    batch_size: int = 1  # how many requests generate() wants at once
    args: dict[str, Any]  # the model args it was built with (recorded in results)

    @classmethod
    def check_args(cls, **args: Any) -> None:
        """Refuse model args this adapter cannot take (ConfigError), before anything is loaded: `harness
        run` calls it first thing. The default: every arg must be a parameter of `__init__` (unless it
        takes **kwargs), and `batch_size`, when given, a whole number >= 1. Adapters add their own checks."""
        import inspect

        params = inspect.signature(cls.__init__).parameters
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            known = [n for n, p in params.items() if n != "self" and p.kind is not inspect.Parameter.VAR_POSITIONAL]
            unknown = sorted(set(args) - set(known))
            if unknown:
                raise ConfigError(f"unknown {cls.name} model args {unknown}", hint=f"known: {sorted(known)}")
        if "batch_size" in args:
            check_positive_int(args["batch_size"], f"{cls.name} batch_size")

    @classmethod
    def describe(cls, **args: Any) -> ModelDescription | None:
        """The model these args would load, without loading it (fingerprint, frame policy, ...).
        `harness run` plans with it and loads the weights only when a sample is left to compute, so
        a finished rerun costs no model load. None (the default): the model must be loaded to know."""
        return None

    def fingerprint(self) -> str:
        """A content hash of weights/config and the args that change outputs: part of every resume
        key, so a different checkpoint never reuses another's predictions."""
        raise NotImplementedError

    def generate(self, requests: list[Request]) -> list[str | Generated | GenerationFailed]:
        """One raw text per request, same order. The adapter applies its own chat template; greedy
        outputs must not depend on how requests are batched. A text may come as a Generated, with what
        its request cost (an endpoint's requests and tokens: the sample's record keeps it). A request
        the adapter could not answer (an endpoint that failed it) is a GenerationFailed in its place:
        that sample's record gets the error, and the others of the batch keep their texts. An
        exception fails the whole call: the runner then retries each sample alone (a ModelError
        instead stops the run)."""
        raise NotImplementedError

    def info(self) -> dict[str, Any]:
        """Extra facts for results.json (dtype, attention implementation, ...)."""
        return {}

    def frame_policy(self) -> FramePolicy | None:
        """The frames this model is evaluated with (VideoLLaMA2: its config's num_frames); None: the
        task's default."""
        return None

    def deviations(self) -> list[str]:
        """How this model's settings depart from the official evaluation (results.json, tables)."""
        return []

    # -- endpoint adapters: generation settings, per-run state ------------------------------------------
    @classmethod
    def check_gen_kwargs(cls, gen_kwargs: dict[str, Any]) -> None:
        """Refuse generation settings (a task's, overridden by --gen-kwargs) this adapter cannot honour
        (ConfigError), before anything runs. The default takes every setting harness.config knows."""

    def begin_run(self) -> None:
        """Called by evaluate() on every rank before its inference: what one run learnt about an
        endpoint must not outlive it (the openai adapter's circuit breaker: an adapter reused in a
        later evaluate() asks again). The default does nothing."""


class UnloadedModel(ModelAdapter):
    """A described model whose weights are not loaded: plans, resume keys and results.json entries are
    those of the loaded model. The runner never asks it to generate (nothing is pending when it is used)."""

    def __init__(self, description: ModelDescription):
        self.description = description
        self.name = description.name  # type: ignore[misc]  # the described adapter's registry name
        self.needs_oracle = description.needs_oracle  # type: ignore[misc]
        self.args = dict(description.args)
        self.batch_size = description.batch_size

    def fingerprint(self) -> str:
        return self.description.fingerprint

    def frame_policy(self) -> FramePolicy | None:
        return self.description.frame_policy

    def deviations(self) -> list[str]:
        return list(self.description.deviations)

    def info(self) -> dict[str, Any]:
        return dict(self.description.info)

    def generate(self, requests: list[Request]) -> list[str | Generated | GenerationFailed]:
        raise RuntimeError(f"model {self.name!r} is not loaded: the runner loads it when samples are pending")


# -- per-request answers and failures, with their cost ---------------------------------------------------
@dataclass(frozen=True)
class Generated:
    """In generate()'s returned list, a text with what its request cost: `usage` holds counts
    (requests, retries, prompt_tokens, completion_tokens, truncated, ...) and `model`, the model the
    endpoint answered as. The sample's record keeps the sum over its requests as `usage`, and each
    task's `model_usage` in results.json is summed from the records (harness.usage)."""

    text: str
    usage: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GenerationFailed:
    """In generate()'s returned list, in place of the text of a request that could not be answered:
    the sample's record gets `error` ("generation failed: <reason>"), never an empty prediction.
    `transient`: a failure of the model's endpoint, not of this request (HTTP 429 or 5xx after the
    retries, a timeout, a dropped connection, the circuit breaker): the record is marked so, and a
    rerun of the same command computes that sample again; otherwise (a refused request, an empty
    completion) the error is final, like a bad video. `usage`: what the failed attempts cost, as
    Generated's."""

    reason: str
    transient: bool = False
    usage: dict[str, Any] | None = None
