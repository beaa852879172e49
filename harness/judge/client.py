"""The OpenAI / Azure OpenAI judge provider (any OpenAI-compatible server too): where its endpoint
and credentials come from, checked before any work, and its requests through the shared chat
client (harness.chat: the same HTTP layer the `openai` model adapter uses).

Keys are read only from the openai package's own environment variables (OPENAI_API_KEY;
AZURE_OPENAI_API_KEY), so they never appear on a command line, in a config or in results; the
endpoint and API version may come from the judge config or from OPENAI_BASE_URL /
AZURE_OPENAI_ENDPOINT / OPENAI_API_VERSION.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..chat.endpoint import (  # noqa: F401 - re-exported: the judge's names for the shared pieces
    ENDPOINT_ENV,
    FATAL,
    KEY_ENV,
    KEYED_HOSTS,
    NOT_RETRIED,
    PRICES,
    VERSION_ENV,
    ChatClient,
    Endpoint,
    ResponseRefused,
    estimate_cost,
    http_client,
    retry_after,
    sanitise_url,
)
from ..errors import JudgeError
from .provider import Completion, JudgeProvider

if TYPE_CHECKING:
    from .config import JudgeConfig

FIX = "check the key variable, --judge model= (Azure: the deployment name), base_url and api_version"


def judge_endpoint(config: JudgeConfig) -> Endpoint:
    """The judge's endpoint: always the standard key variables (the judge config never names one)."""
    return Endpoint(config.provider, config.base_url, config.api_version)


def api_key(provider: str) -> str | None:
    return os.environ.get(KEY_ENV[provider]) or None


def endpoint(config: JudgeConfig) -> str | None:
    return judge_endpoint(config).url()


def api_version(config: JudgeConfig) -> str | None:
    return judge_endpoint(config).version()


def public_endpoint(config: JudgeConfig) -> dict[str, Any]:
    """The endpoint actually used (config or environment), the API version, and the *name* of the
    variable the key is read from (whether it is set, never its value)."""
    return judge_endpoint(config).public()


def secrets(config: JudgeConfig | None = None) -> list[str]:
    """What must never be written: the keys in the environment, and the password and query values
    of the configured endpoint URL (a proxy's token), longest first."""
    if config is not None:
        return judge_endpoint(config).secrets()
    return sorted({k for k in (os.environ.get(env) for env in KEY_ENV.values()) if k and len(k) >= 4}, key=len,
                  reverse=True)


def redact(text: str, config: JudgeConfig | None = None) -> str:
    """`text` with every secret replaced (see harness.chat.Endpoint.redact)."""
    for secret in secrets(config):
        text = text.replace(secret, "[redacted]")
    return text


def preflight(config: JudgeConfig) -> None:
    """Raise JudgeError, with the fix, when the judge cannot possibly work. No network call."""
    problem = judge_endpoint(config).problem("judge", "--judge", "run with --predict-only")
    if problem is not None:
        raise JudgeError(problem[0], hint=problem[1])


def make_client(config: JudgeConfig) -> Any:
    """An async openai client with its own retries off and response bodies bounded."""
    return judge_endpoint(config).client(config.timeout)


class OpenAIProvider(JudgeProvider):
    """OpenAI, Azure OpenAI (`provider=azure`: the deployment is `model`), or a compatible base_url."""

    def __init__(self, config: JudgeConfig):
        super().__init__(config)
        self._chat = ChatClient(judge_endpoint(config), config.timeout, "judge", FIX)

    def preflight(self) -> None:
        preflight(self.config)

    def public(self) -> dict[str, Any]:
        return public_endpoint(self.config)

    def cache_scope(self) -> str:
        return judge_endpoint(self.config).scope()

    def redact(self, text: str) -> str:
        return self._chat.redact(text)

    def estimate_cost(self, tokens: dict[str, dict[str, int]]) -> float | None:
        return estimate_cost(tokens)

    async def complete(self, body: dict[str, Any]) -> Completion:
        return await self._chat.complete(body)

    async def close(self) -> None:
        await self._chat.close()
