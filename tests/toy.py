"""A text-only toy task and deterministic adapters for runner, resume and sharding tests.

Importable by subprocesses (torchrun workers) as `tests.toy:ToyTask` / `tests.toy:HashAdapter`.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any, ClassVar

from harness.model import Generated, GenerationFailed, ModelAdapter, ModelDescription
from harness.scoring import grouped, mcq_accuracy
from harness.task import Option, Task
from harness.types import Frames, Parsed, Request, Sample

LETTERS = "ABCD"


class ToyTask(Task):
    """N arithmetic questions, 4 options each; no video. N from options {"n": ...} (default 40)."""

    name: ClassVar[str] = "toy"
    scoring = "mcq"
    prompt_file = ""
    option_specs: ClassVar[dict[str, Option]] = {"n": Option(int, 40, "number of questions"),
                                                  "bad": Option(int, None, "index of a record made bad")}

    def load(self) -> list[Sample]:
        n = self.option("n")
        out = []
        for i in range(n):
            opts = [str(i + d) for d in range(4)]
            out.append(Sample(id=f"q{i:05d}", task=self.name, media=None, question=f"what is {i}+{i % 4}?",
                              options=opts, answer=LETTERS[i % 4], subset=f"s{i % 3}"))
        if self.option("bad") is not None:  # an annotation record with a missing field
            out[self.option("bad")].error = "record q-bad: missing field 'answer' (file toy.json)"
        return out

    @classmethod
    def build_demo(cls, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)

    def prompt(self, sample: Sample, frames: Frames | None = None) -> str:
        return sample.question + " " + " ".join(f"({LETTERS[i]}) {o}" for i, o in enumerate(sample.options or []))

    def parse(self, sample: Sample, prediction: str) -> Parsed:
        p = prediction.strip()[:1]
        return Parsed(p, "letter") if p and p in LETTERS else Parsed(None, "none")

    def aggregate(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return {**mcq_accuracy(records), "by_subset": grouped(records, lambda r: r["subset"], mcq_accuracy)}


class ToyTask2(ToyTask):
    """The toy task under another name: a second task for output-directory tests."""

    name: ClassVar[str] = "toy2"


class HashAdapter(ModelAdapter):
    """Answers a letter chosen by a hash of the prompt (or 'pass' to fail parsing for some).

    `sleep` seconds per request make a run slow enough to kill midway. Batch-independent by design.
    `loads` / `generated` count, over the whole process, the adapters built (a model load) and the
    requests answered: the CLI builds its own adapter, so in-process CLI tests read these.
    """

    name = "hash"
    loads: ClassVar[int] = 0
    generated: ClassVar[int] = 0

    def __init__(self, batch_size: int = 4, sleep: float = 0.0, tag: str = "v1"):
        self.batch_size = int(batch_size)
        self.sleep = float(sleep)
        self.args = {"batch_size": self.batch_size, "tag": tag}
        self.calls = 0
        HashAdapter.loads += 1

    @classmethod
    def describe(cls, batch_size: int = 4, sleep: float = 0.0, tag: str = "v1") -> ModelDescription:
        """Without building one (that counts as a load)."""
        return ModelDescription(cls.name, {"batch_size": int(batch_size), "tag": tag}, cls.fingerprint_of(tag),
                                info={"pid": None}, batch_size=int(batch_size))

    @classmethod
    def fingerprint_of(cls, tag: str) -> str:
        return "hash-" + tag

    def fingerprint(self) -> str:
        return self.fingerprint_of(self.args["tag"])

    def info(self) -> dict[str, Any]:
        return {"pid": None}

    def generate(self, requests: list[Request]) -> list[str]:
        out = []
        for r in requests:
            self.calls += 1
            HashAdapter.generated += 1
            if self.sleep:
                time.sleep(self.sleep)
            h = int(hashlib.sha256(r.text.encode()).hexdigest(), 16)
            out.append("I am not sure" if h % 7 == 0 else LETTERS[h % 4])
        return out


def env_adapter() -> HashAdapter:
    return HashAdapter(batch_size=int(os.environ.get("TOY_BATCH", "4")), sleep=float(os.environ.get("TOY_SLEEP", "0")))


class RankSkewAdapter(HashAdapter):
    """Simulates ranks launched with different model args: the fingerprint depends on the rank."""

    @classmethod
    def fingerprint_of(cls, tag: str) -> str:
        return f"hash-rank{os.environ.get('RANK', '0')}"


class FlakyAdapter(HashAdapter):
    """HashAdapter behind a make-believe endpoint, deterministic in every byte: sample i (q<i>) with
    i % 5 == 0 is refused (a final GenerationFailed), i % 5 == 1 fails on the endpoint (transient,
    after 5 attempts) while `down`; the others answer. Every output carries its cost as the openai
    adapter's do (requests, retries, tokens, the model as returned), a function of the request alone.
    `batches` counts generate() calls."""

    name = "flaky"
    SERVED = "flaky-served"

    def __init__(self, batch_size: int = 4, down: int = 1, sleep: float = 0.0, tag: str = "v1"):
        super().__init__(batch_size=batch_size, sleep=sleep, tag=tag)
        self.down = bool(int(down))
        self.args = {**self.args, "down": int(self.down)}
        self.batches = 0

    @classmethod
    def describe(cls, batch_size: int = 4, down: int = 1, sleep: float = 0.0, tag: str = "v1") -> ModelDescription:
        return ModelDescription(cls.name, {"batch_size": int(batch_size), "tag": tag, "down": int(bool(int(down)))},
                                cls.fingerprint_of(tag), info={"pid": None}, batch_size=int(batch_size))

    @classmethod
    def cost(cls, r: Request, requests: int = 1, answered: bool = True) -> dict[str, Any]:
        return {"requests": requests, "retries": requests - 1, "prompt_tokens": len(r.text) if answered else 0,
                "completion_tokens": 1 if answered else 0, "truncated": 0, "model": cls.SERVED if answered else None}

    def generate(self, requests: list[Request]) -> list[Generated | GenerationFailed]:  # type: ignore[override]
        self.batches += 1
        out: list[Generated | GenerationFailed] = []
        for r, text in zip(requests, super().generate(requests)):
            i = int(r.sample_id[1:])
            if i % 5 == 0:
                out.append(GenerationFailed("refused: content filter", usage=self.cost(r, answered=False)))
            elif i % 5 == 1 and self.down:
                out.append(GenerationFailed("HTTP 503 (after 5 attempts)", transient=True,
                                            usage=self.cost(r, 5, answered=False)))
            else:
                out.append(Generated(text, self.cost(r)))
        return out
