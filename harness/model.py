"""The model adapter contract: one required method, `generate`, over a batch of neutral requests.

Every adapter subclasses ModelAdapter; every hook the runner calls is declared here with its default.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .types import FramePolicy, Request


class ModelAdapter:
    """What the runner needs from a model.

    Required: `fingerprint()` and `generate()`. The rest have defaults an adapter may override.
    """

    name: ClassVar[str] = "model"  # registry name
    # Test adapters only: the runner puts each sample's target into gen_kwargs["oracle_answer"].
    needs_oracle: ClassVar[bool] = False
    batch_size: int = 1  # how many requests generate() wants at once
    args: dict[str, Any]  # the model args it was built with (recorded in results)

    def fingerprint(self) -> str:
        """A content hash of weights/config and the args that change outputs: part of every resume
        key, so a different checkpoint never reuses another's predictions."""
        raise NotImplementedError

    def generate(self, requests: list[Request]) -> list[str]:
        """One raw text per request, same order. The adapter applies its own chat template; greedy
        outputs must not depend on how requests are batched."""
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
