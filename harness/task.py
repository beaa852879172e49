"""The task protocol: what one benchmark module provides.

A task is a dataset (`load`), a prompt (`prompt`), a parser (`parse`) and an aggregate
(`aggregate`). It knows nothing about models, ranks or files other than its own annotations.
Every hook the runner calls is declared here with its default; a task overrides what it needs.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from . import prompts
from .errors import ConfigError
from .paths import package_dir
from .types import FramePolicy, Frames, Parsed, Sample, SampleRecord, ScoredRecord

if TYPE_CHECKING:
    from .judge import JudgeItem, Verdict

PROMPT_DIR = package_dir("harness.tasks") / "prompts"  # tasks/prompts/ in the repository
PROTOCOL = "videollama2@c0bb03a"  # the evaluation code every task's default reproduces


@dataclass(frozen=True)
class Option:
    """One task option, set with `--task-args <task>:<name>=<value>`."""

    kind: type  # str, bool or int; a value of another type is refused
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None


# Options every task has.
COMMON_OPTIONS = {"prompts": Option(str, None, "a folder holding this task's instruction template in another "
                                               "wording (a named prompt set: recorded as a deviation)")}


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
    # The task's own options (COMMON_OPTIONS are added); any other name is refused.
    option_specs: ClassVar[dict[str, Option]] = {}
    # Judged tasks: the judge they ask for unless --judge says otherwise (harness.judge.JudgeConfig keys).
    judge_default: ClassVar[dict[str, Any]] = {}
    submission_help: ClassVar[str] = ""  # server-scored splits: where and how to upload the submission

    def __init__(self, root: Path, split: str | None = None, options: dict[str, Any] | None = None):
        self.root = Path(root)
        self.split = split or self.default_split
        if self.split not in self.splits:
            raise ConfigError(f"task {self.name} has no split {self.split!r}",
                              hint=f"choose one of {sorted(self.splits)}")
        self.options = self._checked(dict(options or {}))  # as given: defaults come from option()

    def _checked(self, options: dict[str, Any]) -> dict[str, Any]:
        specs = {**COMMON_OPTIONS, **self.option_specs}
        for key, value in options.items():
            spec = specs.get(key)
            if spec is None:
                close = difflib.get_close_matches(key, specs, n=1)
                raise ConfigError(f"task {self.name} has no option {key!r}",
                                  hint=(f"did you mean {close[0]!r}? " if close else "")
                                  + "options: " + ", ".join(f"{k} ({v.help})" for k, v in sorted(specs.items())))
            if not isinstance(value, spec.kind) or (spec.kind is int and isinstance(value, bool)):
                raise ConfigError(f"{self.name}:{key}={value!r} is not a {spec.kind.__name__}", hint=spec.help)
            if spec.choices is not None and value not in spec.choices:
                raise ConfigError(f"{self.name}:{key}={value!r}", hint="use one of " + ", ".join(map(str, spec.choices))
                                  + f": {spec.help}")
        return options

    def option(self, name: str) -> Any:
        """The option's value, or its declared default."""
        return self.options.get(name, {**COMMON_OPTIONS, **self.option_specs}[name].default)

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
        custom = self.option("prompts")
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
        custom = self.option("prompts")
        return [f"prompt set {Path(custom).name!r} ({self.template_hash()}) instead of the official wording"] if custom else []

    def parse(self, sample: Sample, prediction: str) -> Parsed:
        """Extract the answer from the raw model text. Must never raise on any string."""
        raise NotImplementedError

    # -- scoring -----------------------------------------------------------------------------
    def score_record(self, rec: SampleRecord) -> None:
        """Fill `parsed`, `rule`, `state`, `correct` of a record whose inference succeeded (tasks that
        are not judged): the answer `parse` extracts against the record's target."""
        parsed = self.parse(sample_from_record(rec), rec.get("prediction") or "")
        rec["parsed"], rec["rule"] = parsed.answer, parsed.rule
        if self.server_scored:
            rec["state"], rec["correct"] = "submitted", None
        elif parsed.answer is None:
            rec["state"], rec["correct"] = "unparsed", False
        else:
            rec["state"], rec["correct"] = "scored", parsed.answer == rec.get("target")

    def judge_items(self, rec: SampleRecord) -> list[JudgeItem]:
        """Judged tasks: what to ask the judge about one record (one item per quality judged)."""
        raise NotImplementedError(f"{self.name} is not a judged task")

    def apply_verdicts(self, rec: SampleRecord, verdicts: list[Verdict]) -> None:
        """Judged tasks: fill the record's `state`, `correct`, `score`, `judge` from its verdicts."""
        raise NotImplementedError(f"{self.name} is not a judged task")

    def aggregate(self, records: list[ScoredRecord]) -> dict[str, Any]:
        """Official metrics from scored records."""
        raise NotImplementedError

    def write_submission(self, records: list[ScoredRecord], outdir: Path) -> Path | None:
        """For server-scored splits: write the official submission file, return its path."""
        return None


def sample_from_record(rec: SampleRecord | ScoredRecord) -> Sample:
    """Enough of the Sample to parse an answer: records are self-contained by design."""
    return Sample(id=rec["id"], task=rec["task"], media=None, question=rec.get("question") or "",
                  options=rec.get("options"), answer=rec.get("target"), subset=rec.get("subset"),
                  meta=rec.get("meta") or {}, error=rec.get("error"))
