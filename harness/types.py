"""Plain data passed between the stages: samples, frame policies, requests, records."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

import numpy as np

from .errors import ConfigError

MediaKind = Literal["video", "frames", "gif", "image"]


@dataclass(frozen=True)
class FramePolicy:
    """Which frames a sample sees. Data, not code: recorded in every result.

    `uniform`: n frames, the middle of n equal segments of the (clipped) span.
    `fps`: one frame every 1/fps seconds, clamped to [min_frames, max_frames] (uniform when clamped).
    """

    mode: Literal["uniform", "fps"] = "uniform"
    n: int = 8
    fps: float | None = None
    min_frames: int = 1
    max_frames: int = 256

    def __post_init__(self) -> None:
        """A policy that cannot sample anything, or contradicts itself, is refused where it is made."""
        if self.mode == "uniform":
            if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 1:
                raise ConfigError(f"frame policy uniform:{self.n}: the frame count must be a whole number >= 1")
        elif self.mode == "fps":
            if self.fps is None or not math.isfinite(self.fps) or self.fps <= 0:
                raise ConfigError(f"frame policy fps:{self.fps}: the rate must be a number > 0")
            if not 1 <= self.min_frames <= self.max_frames:
                raise ConfigError(f"frame policy fps:{self.fps:g},min={self.min_frames},max={self.max_frames}: "
                                  "needs 1 <= min <= max")
        else:
            raise ConfigError(f"frame policy mode {self.mode!r}", hint="use uniform:N or fps:F[,min=A][,max=B]")

    @classmethod
    def parse(cls, spec: str) -> FramePolicy:
        """Parse `uniform:16` / `16` / `fps:1,min=8,max=64`."""
        text = spec.strip().lower()
        try:
            if text.isdigit():
                return cls(mode="uniform", n=int(text))
            mode, _, rest = text.partition(":")
            parts = [p for p in rest.split(",") if p]
            if mode == "uniform" and len(parts) == 1:
                return cls(mode="uniform", n=int(parts[0]))
            if mode == "fps" and parts:
                kw = dict(p.split("=") for p in parts[1:])
                if set(kw) - {"min", "max"}:
                    raise ConfigError(f"bad frame policy {spec!r}: unknown key(s) {sorted(set(kw) - {'min', 'max'})}",
                                      hint="use fps:F[,min=A][,max=B]")
                return cls(mode="fps", fps=float(parts[0]), n=0,
                           min_frames=int(kw.get("min", 1)), max_frames=int(kw.get("max", 256)))
        except (ValueError, IndexError):
            pass
        raise ConfigError(f"bad frame policy {spec!r}", hint="use uniform:N, N, or fps:F[,min=A][,max=B]")

    def __str__(self) -> str:
        if self.mode == "uniform":
            return f"uniform:{self.n}"
        return f"fps:{self.fps:g},min={self.min_frames},max={self.max_frames}"


@dataclass(frozen=True)
class MediaRef:
    """Where a sample's visual input lives. `start`/`end` are clip bounds in seconds.
    For frame folders, `fps` is the rate the frames were extracted at (MVBench tvqa: 3)."""

    path: str
    kind: MediaKind = "video"
    start: float | None = None
    end: float | None = None
    fps: float | None = None


@dataclass(slots=True)  # no per-instance __dict__: a 100k-sample task holds 100k of these
class Sample:
    """One question about one video, as a task loaded it.

    MCQ: `options` are the option texts (no letters) and `answer` the correct letter ("A".."E"),
    or None when labels are hidden (server-scored split). Open-ended: `options` is None and
    `answer` the reference text. `error` is set when the annotation record itself is bad; such a
    sample still flows through so it is logged and counted, never dropped.
    """

    id: str
    task: str
    media: MediaRef | None
    question: str
    options: list[str] | None = None
    answer: str | None = None
    subset: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Frames:
    """Decoded frames of one sample: (T, H, W, 3) uint8 RGB, with what was sampled, and the
    source's own frame count and rate as the decoder reports them (Video-MME's official subtitle
    selection works from those, not from the sampled frames)."""

    array: np.ndarray
    indices: list[int]
    timestamps: list[float]
    video_frames: int | None = None
    fps: float | None = None


@dataclass
class Request:
    """A neutral model request: the model side applies its own chat template."""

    sample_id: str
    text: str
    frames: Frames | None
    modal: Literal["video", "image", "text"] = "video"
    gen_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Parsed:
    """What the parser made of a prediction. `answer` None means unparsed."""

    answer: str | None
    rule: str  # which extraction rule matched ("letter", "option_text", "none", ...)


# -- records: one JSON line per sample in samples/<task>.jsonl ------------------------------------------
class FramesRecord(TypedDict):
    policy: str  # e.g. "uniform:8"
    indices: list[int] | None  # the frames the model saw (None: no media, or it failed)
    timestamps: list[float] | None  # seconds


class MediaRecord(TypedDict):
    path: str
    kind: MediaKind
    start: float | None
    end: float | None
    fps: float | None


class SampleRecord(TypedDict, total=False):
    """A sample as written by inference (harness.inference.base_record, then the model's output),
    and the fields scoring adds. The file is the resume point and the input of `harness score`."""

    # written at inference, in this order
    key: str  # resume key: hash of everything that determines the prediction
    id: str
    task: str
    subset: str | None
    question: str
    options: list[str] | None  # MCQ option texts, no letters
    target: str | None  # correct letter (MCQ), reference text (open-ended), None when hidden
    meta: dict[str, Any]
    frames: FramesRecord
    media: MediaRecord | None
    prediction: str | None  # the model's raw text
    extra_predictions: list[str] | None  # answers to Task.extra_prompts, in order
    error: str | None  # why there is no prediction (bad annotation, bad video, failed generation)
    # present (true) only when `error` is a failure of the model's endpoint (HTTP 429/5xx after retries,
    # a timeout, the circuit breaker) or generation out of memory even alone, not of this sample: a
    # rerun computes the sample again (after out of memory: with smaller settings, e.g. batch_size)
    transient: bool
    # present only for adapters that count (`openai`): what this sample's requests cost, summed
    # (requests, retries, prompt_tokens, completion_tokens, truncated; model: as the endpoint
    # answered); results.json's model_usage is summed from these (harness.usage)
    usage: dict[str, Any]
    # added by scoring (harness.scoring.stage)
    parsed: str | None  # the extracted answer
    rule: str  # which extraction rule matched
    state: Literal["scored", "unparsed", "error", "unscored", "submitted"]
    correct: bool | None
    score: Any  # judged tasks: the 0-5 score (or one per quality)
    judge: dict[str, Any]  # judged tasks: verdict(s), the model as returned, or why unscored
    with_subtitles: dict[str, Any]  # Video-MME: the scoring fields of the with-subtitles answer


class ScoredRecord(TypedDict, total=False):
    """What aggregation and submissions get (harness.scoring.score_file): a SampleRecord without the
    long text fields (question, prediction, extra_predictions, frames, key, media), so memory stays
    flat in the number of samples."""

    id: str
    task: str
    subset: str | None
    options: list[str] | None
    target: str | None
    meta: dict[str, Any]
    error: str | None
    transient: bool
    usage: dict[str, Any]
    parsed: str | None
    rule: str
    state: Literal["scored", "unparsed", "error", "unscored", "submitted"]
    correct: bool | None
    score: Any
    judge: dict[str, Any]
    with_subtitles: dict[str, Any]


def stable_hash(obj: Any, n: int = 16) -> str:
    """Content hash of a JSON-able object (sorted keys): used in resume keys and fingerprints."""
    blob = json.dumps(obj, sort_keys=True, default=str, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:n]
