"""The model protocol: one required method, `generate`, over a batch of neutral requests."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from .types import Request


@runtime_checkable
class ModelAdapter(Protocol):
    """What the runner needs from a model.

    - `name`: registry name; `args`: the model args it was built with (recorded in results).
    - `fingerprint()`: a content hash of weights/config + args; part of every resume key, so
      a different checkpoint never reuses another's predictions.
    - `batch_size`: how many requests `generate` wants at once.
    - `generate(requests)`: one raw text per request, same order. The adapter applies its own
      chat template; greedy outputs must not depend on how requests are batched.
    - `info()`: extra facts for results.json (dtype, attention implementation, ...).
    """

    name: str
    args: dict[str, Any]
    batch_size: int

    def fingerprint(self) -> str: ...

    def generate(self, requests: list[Request]) -> list[str]: ...

    def info(self) -> dict[str, Any]: ...
