"""What a judge provider is: one small class per kind of endpoint.

The judge (harness.judge.core) owns concurrency, parsing and the cache, and asks through a
harness.chat.Session (retries, backoff, deadlines, the circuit breaker); a provider only turns one
request body into one completion, or says why it could not, classified (ProviderError). A new
kind of endpoint is one JudgeProvider subclass and one entry in PROVIDERS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..chat.endpoint import ChatError, Completion

if TYPE_CHECKING:
    from .config import JudgeConfig

# The shared chat layer's pieces, under the judge's names (ProviderError is harness.chat.ChatError).
ProviderError = ChatError
__all__ = ["PROVIDERS", "Completion", "JudgeProvider", "ProviderError", "provider_for"]


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
