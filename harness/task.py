"""The task protocol: what one benchmark module provides.

A task is a dataset (`load`), a prompt (`prompt`), a parser (`parse`) and an aggregate
(`aggregate`). It knows nothing about models, ranks or files other than its own annotations.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, ClassVar, Literal

from .errors import ConfigError
from .types import FramePolicy, Parsed, Sample

PROMPT_DIR = Path(__file__).resolve().parent.parent / "tasks" / "prompts"


class Task:
    """Base class for benchmark tasks. Subclasses set the class attributes and override methods.

    - `splits`: split name -> True when its labels are public (scored here), False when the
      split is scored by the benchmark's server (we only write the submission file).
    - `scoring`: "mcq" (letter exact match), "exact" (string exact match), "judge" (GPT judge).
    - `prompt_file`: a versioned template under tasks/prompts/; its hash goes into every result.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    scoring: ClassVar[Literal["mcq", "exact", "judge"]] = "mcq"
    splits: ClassVar[dict[str, bool]] = {"test": True}
    default_split: ClassVar[str] = "test"
    default_frames: ClassVar[FramePolicy] = FramePolicy("uniform", 8)
    prompt_file: ClassVar[str] = ""

    def __init__(self, root: Path, split: str | None = None, options: dict[str, Any] | None = None):
        self.root = Path(root)
        self.split = split or self.default_split
        if self.split not in self.splits:
            raise ConfigError(f"task {self.name} has no split {self.split!r}",
                              hint=f"choose one of {sorted(self.splits)}")
        self.options = dict(options or {})

    # -- data -------------------------------------------------------------------------------
    def load(self) -> list[Sample]:
        """All samples of the split, in a stable order. Bad records come back with `error` set."""
        raise NotImplementedError

    @classmethod
    def build_demo(cls, root: Path) -> None:
        """Write a small demo set into `root` in the benchmark's own file layout (synthetic mp4s)."""
        raise NotImplementedError

    # -- prompting and parsing ---------------------------------------------------------------
    @property
    def server_scored(self) -> bool:
        return not self.splits[self.split]

    def template(self) -> str:
        return (PROMPT_DIR / self.prompt_file).read_text(encoding="utf-8")

    def template_hash(self) -> str:
        return hashlib.sha256(self.template().encode()).hexdigest()[:12]

    def prompt(self, sample: Sample) -> str:
        """The instruction text for one sample (no chat template: that is the model's job)."""
        raise NotImplementedError

    def parse(self, sample: Sample, prediction: str) -> Parsed:
        """Extract the answer from the raw model text. Must never raise on any string."""
        raise NotImplementedError

    # -- scoring -----------------------------------------------------------------------------
    def aggregate(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        """Official metrics from scored records (see harness.scoring for the record fields)."""
        raise NotImplementedError

    def write_submission(self, records: list[dict[str, Any]], outdir: Path) -> Path | None:
        """For server-scored splits: write the official submission file, return its path."""
        return None

    submission_help: ClassVar[str] = ""
