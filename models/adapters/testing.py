"""Deterministic test adapters: an oracle (reads the answer the runner hands it) and a constant.

No torch import: `harness run --model constant` works on a machine with nothing but the core.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.model import ModelAdapter, ModelDescription
from harness.types import Request, stable_hash


class _Fixed(ModelAdapter):
    name = "fixed"

    def __init__(self, batch_size: int | str = 8, **args: Any):
        self.batch_size = int(batch_size)
        self.args = {"batch_size": self.batch_size, **args}

    @classmethod
    def describe(cls, **args: Any) -> ModelDescription:
        return ModelDescription.of(cls(**args))  # nothing to load: building one is the description

    def fingerprint(self) -> str:
        return f"{self.name}-{stable_hash(self.args, 8)}"

    def info(self) -> dict[str, Any]:
        return {"kind": "test adapter"}


class OracleAdapter(_Fixed):
    """Answers with the sample's target: MCQ letters come back as "(X)", open-ended as the
    reference text. A harness check: every task must score 100% with it."""

    name = "oracle"
    model_args: ClassVar[dict[str, str]] = {"batch_size": "requests per generate call (default 8)"}
    needs_oracle = True  # the runner puts the target into gen_kwargs["oracle_answer"] for this adapter only

    def __init__(self, batch_size: int | str = 8):
        super().__init__(batch_size=batch_size)

    def generate(self, requests: list[Request]) -> list[str]:
        out = []
        for r in requests:
            answer = r.gen_kwargs.get("oracle_answer")
            text = "" if answer is None else str(answer)
            out.append(f"({text})" if len(text) == 1 and text.isalpha() else text)
        return out


class ConstantAdapter(_Fixed):
    """Always answers `answer` (default "A"): its accuracy is the share of that letter in the answers."""

    name = "constant"
    model_args: ClassVar[dict[str, str]] = {"answer": "the text it always answers (default A)", "batch_size": "requests per generate call (default 8)"}

    def __init__(self, answer: str = "A", batch_size: int | str = 8):
        super().__init__(batch_size=batch_size, answer=str(answer))
        self.answer = str(answer)

    def generate(self, requests: list[Request]) -> list[str]:
        return [self.answer for _ in requests]
