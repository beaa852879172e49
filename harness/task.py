"""The task protocol: what one benchmark module provides.

A task is a dataset (`load`), a prompt (`prompt`), a parser (`parse`) and an aggregate
(`aggregate`). It knows nothing about models, ranks or files other than its own annotations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from . import prompts
from .errors import ConfigError
from .types import FramePolicy, Frames, Parsed, Sample

PROMPT_DIR = Path(__file__).resolve().parent.parent / "tasks" / "prompts"
PROTOCOL = "videollama2@c0bb03a"  # the evaluation code every task's default reproduces


class Task:
    """Base class for benchmark tasks. Subclasses set the class attributes and override methods.

    - `splits`: split name -> True when its labels are public (scored here), False when the
      split is scored by the benchmark's server (we only write the submission file).
    - `scoring`: "mcq" (letter exact match), "exact" (string exact match), "judge" (GPT judge).
    - `prompt_file`: the instruction template under tasks/prompts/ (protocol text, byte for byte
      from `protocol`'s code; see harness.prompts); its hash goes into every resume key and result.
      Option `prompts=DIR` reads it from DIR instead: another wording, recorded as a deviation.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "2"  # 2: the official protocol byte for byte (c0bb03a instructions, frames, pixels)
    scoring: ClassVar[Literal["mcq", "exact", "judge"]] = "mcq"
    splits: ClassVar[dict[str, bool]] = {"test": True}
    default_split: ClassVar[str] = "test"
    default_frames: ClassVar[FramePolicy] = FramePolicy("uniform", 8)
    prompt_file: ClassVar[str] = ""
    protocol: ClassVar[str] = PROTOCOL
    # The seed's mm_infer: greedy, up to 2048 new tokens, stopped at the end-of-sequence token.
    gen_kwargs: ClassVar[dict[str, Any]] = {"do_sample": False, "max_new_tokens": 2048}

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

    @property
    def prompt_dir(self) -> Path:
        """Where the instruction template is read: the official wording, or option `prompts=DIR`."""
        custom = self.options.get("prompts")
        return Path(custom) if custom else PROMPT_DIR

    def template(self) -> prompts.ProtocolText:
        return prompts.load(self.prompt_dir / self.prompt_file)

    def template_hash(self) -> str:
        return self.template().hash

    def prompt(self, sample: Sample, frames: Frames | None = None) -> str:
        """The instruction text for one sample (no chat template: that is the model's job).
        `frames`: what the model will see (indices, timestamps, the video's frame count and
        rate), None for text-only requests and outside a run."""
        raise NotImplementedError

    def extra_prompts(self, sample: Sample, frames: Frames | None = None) -> list[str]:
        """More instructions over the same frames (Video-ChatGPT consistency's second question,
        Video-MME's with-subtitles setting); their answers become record["extra_predictions"]."""
        return []

    def deviations(self) -> list[str]:
        """How this task's options depart from the official protocol (empty: none). Recorded in
        results.json and footnoted in tables."""
        custom = self.options.get("prompts")
        return [f"prompt set {Path(custom).name!r} ({self.template_hash()}) instead of the official wording"] if custom else []

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
