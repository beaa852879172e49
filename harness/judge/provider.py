"""What a judge provider is: one small class per kind of endpoint.

The judge (harness.judge.core) owns concurrency, retries, backoff, deadlines, parsing and the
cache; a provider only turns one request body into one completion, or says why it could not,
classified. A new kind of endpoint is one JudgeProvider subclass and one entry in PROVIDERS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import JudgeConfig

MAX_WAIT = 60.0  # seconds; caps any wait (Retry-After, backoff) so a run stays bounded
MAX_RESPONSE_BYTES = 1 << 20  # a chat completion holding a 0-5 verdict is a few hundred bytes
MAX_MODEL_CHARS = 200  # a model name as the endpoint returns it, kept in every record


@dataclass
class Completion:
    text: str | None  # the judge's answer
    model: str | None  # the model the endpoint says answered (it may differ from the one asked for)
    usage: dict[str, int] = field(default_factory=dict)  # prompt_tokens, completion_tokens


class ProviderError(Exception):
    """A request that brought no completion, classified for the judge's retry loop.

    `fatal`: configuration, not this item (a refused key, no such model): stop the run.
    `retry`: asking again may help (load, a dropped connection, a bad or oversized body): a failure
    of the endpoint, counted towards the judge's circuit breaker and never cached; False for a
    refusal of this one request (a content filter): final, cached. `wait`: seconds the server asked
    us to wait before the next try, as it said (the judge decides what it waits). `reason` is
    already redacted (see `redact`).
    """

    def __init__(self, reason: str, *, fatal: bool = False, retry: bool = True, wait: float | None = None,
                 hint: str | None = None):
        super().__init__(reason)
        self.reason, self.fatal, self.retry, self.wait, self.hint = reason, fatal, retry, wait, hint


class JudgeProvider:
    """One kind of judge endpoint. Built once per judged run from the resolved JudgeConfig."""

    def __init__(self, config: JudgeConfig):
        self.config = config

    def preflight(self) -> None:
        """Raise harness.errors.JudgeError, with the fix, when the judge cannot possibly work (no
        network call): missing credentials, a malformed endpoint."""

    def public(self) -> dict[str, Any]:
        """The endpoint as results.json records it: never a credential."""
        return {}

    def cache_scope(self) -> str:
        """The endpoint as the cache key names it (for Azure the deployment is the config's model,
        in the key too): verdicts of one endpoint are never reused for another. Never a credential."""
        return str(self.public().get("base_url") or "")

    async def complete(self, body: dict[str, Any]) -> Completion:
        """Send one chat request (model, messages, sampling fields) and return the completion, or
        raise ProviderError. Must not retry on its own: the judge's retries are bounded and logged."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release connections at the end of a judged run."""

    def redact(self, text: str) -> str:
        """`text` with any credential this provider knows replaced (servers sometimes echo them).
        The judge passes every string from the endpoint through it before it reaches a verdict, the
        cache, stats or a log; a provider redacts its own error texts before cutting them short."""
        return text

    def estimate_cost(self, tokens: dict[str, dict[str, int]]) -> float | None:
        """USD for {model as returned: {prompt_tokens, completion_tokens}}; None when unknown."""
        return None


# `--judge provider=NAME` -> the class, as a lazy "module:Class" (the openai package loads on use).
PROVIDERS: dict[str, str] = {"openai": "harness.judge.client:OpenAIProvider",
                             "azure": "harness.judge.client:OpenAIProvider"}


def provider_for(config: JudgeConfig) -> JudgeProvider:
    import importlib

    module, cls = PROVIDERS[config.provider].split(":")
    return getattr(importlib.import_module(module), cls)(config)
