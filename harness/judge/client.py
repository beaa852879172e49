"""The OpenAI / Azure OpenAI judge provider (any OpenAI-compatible server too): where its endpoint
and credentials come from, checked before any work, and its requests through the shared chat
client (harness.chat: the same HTTP layer the `openai` model adapter uses).

Keys are read only from the openai package's own environment variables (OPENAI_API_KEY;
AZURE_OPENAI_API_KEY), so they never appear on a command line, in a config or in results; the
endpoint and API version may come from the judge config or from OPENAI_BASE_URL /
AZURE_OPENAI_ENDPOINT / OPENAI_API_VERSION.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..chat.endpoint import ChatClient, Endpoint, estimate_cost
from ..errors import JudgeError
from .provider import Completion, JudgeProvider

if TYPE_CHECKING:
    from .config import JudgeConfig

FIX = "check the key variable, --judge model= (Azure: the deployment name), base_url and api_version"


def judge_endpoint(config: JudgeConfig) -> Endpoint:
    """The judge's endpoint: always the standard key variables (the judge config never names one)."""
    return Endpoint(config.provider, config.base_url, config.api_version)


class OpenAIProvider(JudgeProvider):
    """OpenAI, Azure OpenAI (`provider=azure`: the deployment is `model`), or a compatible base_url."""

    def __init__(self, config: JudgeConfig):
        super().__init__(config)
        self.endpoint = judge_endpoint(config)
        self._chat = ChatClient(self.endpoint, config.timeout, "judge", FIX)

    def preflight(self) -> None:
        """Raise JudgeError, with the fix, when the judge cannot possibly work. No network call."""
        problem = self.endpoint.problem("judge", "--judge", "run with --predict-only")
        if problem is not None:
            raise JudgeError(problem[0], hint=problem[1])

    def public(self) -> dict[str, Any]:
        """The endpoint actually used (config or environment), the API version, and the *name* of the
        variable the key is read from (whether it is set, never its value)."""
        return self.endpoint.public()

    def cache_scope(self) -> str:
        return self.endpoint.scope()

    def redact(self, text: str) -> str:
        return self.endpoint.redact(text)

    def estimate_cost(self, tokens: dict[str, dict[str, int]]) -> float | None:
        return estimate_cost(tokens)

    async def complete(self, body: dict[str, Any]) -> Completion:
        return await self._chat.complete(body)

    async def close(self) -> None:
        await self._chat.close()
