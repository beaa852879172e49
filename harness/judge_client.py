"""Where the judge's endpoint and credentials come from, checked before any work, and the client.

Keys are read only from the openai package's own environment variables (OPENAI_API_KEY;
AZURE_OPENAI_API_KEY), so they never appear on a command line, in a config or in results; the
endpoint and API version may come from the judge config or from OPENAI_BASE_URL /
AZURE_OPENAI_ENDPOINT / OPENAI_API_VERSION.
"""

from __future__ import annotations

import email.utils
import os
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from .errors import JudgeError

if TYPE_CHECKING:
    from .judge import JudgeConfig

KEY_ENV = {"openai": "OPENAI_API_KEY", "azure": "AZURE_OPENAI_API_KEY"}
ENDPOINT_ENV = {"openai": "OPENAI_BASE_URL", "azure": "AZURE_OPENAI_ENDPOINT"}
VERSION_ENV = "OPENAI_API_VERSION"
MAX_WAIT = 60.0  # seconds; caps Retry-After and backoff so a run stays bounded
KEYED_HOSTS = ("openai.com", "azure.com", "azure-api.net")  # hosted APIs: a key is always needed

# USD per 1M tokens (prompt, completion), matched by prefix of the model the API returned; the
# estimate is None when a returned model is not listed. More specific prefixes first.
PRICES = {"gpt-4o-mini": (0.15, 0.6), "gpt-4o": (2.5, 10.0), "gpt-4.1-mini": (0.4, 1.6), "gpt-4.1": (2.0, 8.0),
          "gpt-3.5-turbo": (0.5, 1.5), "gpt-35-turbo": (0.5, 1.5)}


def api_key(provider: str) -> str | None:
    return os.environ.get(KEY_ENV[provider]) or None


def endpoint(config: JudgeConfig) -> str | None:
    return config.base_url or os.environ.get(ENDPOINT_ENV[config.provider]) or None


def api_version(config: JudgeConfig) -> str | None:
    if config.provider != "azure":
        return config.api_version
    return config.api_version or os.environ.get(VERSION_ENV) or None


def sanitise_url(url: str | None) -> str | None:
    """Scheme, host, port and path only: user:password@ or ?key=... never reach results or logs."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def public_endpoint(config: JudgeConfig) -> dict[str, Any]:
    """The endpoint actually used (config or environment), the API version, and the *name* of the
    variable the key is read from (whether it is set, never its value)."""
    env = KEY_ENV[config.provider]
    default = "https://api.openai.com/v1" if config.provider == "openai" else None
    return {"base_url": sanitise_url(endpoint(config)) or default, "api_version": api_version(config),
            "key_env": env, "key_set": bool(api_key(config.provider))}


def redact(text: str) -> str:
    """`text` with any configured key replaced: servers and proxies sometimes echo headers back."""
    for env in KEY_ENV.values():
        key = os.environ.get(env)
        if key and len(key) >= 4:
            text = text.replace(key, "[redacted]")
    return text


def preflight(config: JudgeConfig) -> None:
    """Raise JudgeError, with the fix, when the judge cannot possibly work. No network call."""
    env, url = KEY_ENV[config.provider], endpoint(config)
    where = f"--judge base_url=URL or {ENDPOINT_ENV[config.provider]}"
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise JudgeError(f"judge endpoint {sanitise_url(url)!r} is not an http(s) URL", hint=f"set {where}")
    if config.provider == "azure":
        if not api_key("azure"):
            raise JudgeError(f"the Azure judge needs {env} in the environment",
                             hint="export it (a key is never passed on the command line), or run with --predict-only")
        if url is None:
            raise JudgeError("the Azure judge needs an endpoint", hint=f"set {where}")
        if not api_version(config):
            raise JudgeError("the Azure judge needs an API version",
                             hint=f"export {VERSION_ENV} or --judge api_version=YYYY-MM-DD")
        return
    host = (urlsplit(url).hostname or "") if url else "api.openai.com"
    if not api_key("openai") and (url is None or host.endswith(KEYED_HOSTS)):
        raise JudgeError(f"the OpenAI judge needs {env} in the environment",
                         hint="export it (a key is never passed on the command line), point "
                              "--judge base_url=URL at a compatible server, or run with --predict-only")


def make_client(config: JudgeConfig) -> Any:
    """An async openai client with its own retries off: ours are bounded, logged and Retry-After aware."""
    import openai

    common: dict[str, Any] = {"timeout": config.timeout, "max_retries": 0}
    if config.provider == "azure":
        return openai.AsyncAzureOpenAI(api_key=api_key("azure"), azure_endpoint=endpoint(config),
                                       api_version=api_version(config), **common)
    # A local compatible server needs no key, but the client insists on one: send a placeholder.
    return openai.AsyncOpenAI(api_key=api_key("openai") or "unused", base_url=endpoint(config), **common)


def retry_after(headers: Any) -> float | None:
    """Seconds the server asked us to wait: retry-after-ms, Retry-After seconds or HTTP date."""
    headers = headers or {}
    try:
        if headers.get("retry-after-ms"):
            return min(MAX_WAIT, max(0.0, float(headers["retry-after-ms"]) / 1000))
        value = headers.get("retry-after")
        if value:
            try:
                return min(MAX_WAIT, max(0.0, float(value)))
            except ValueError:
                return min(MAX_WAIT, max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time()))
    except (ValueError, TypeError):
        pass
    return None


def estimate_cost(tokens: dict[str, Any]) -> float | None:
    """USD for {model as returned: {prompt_tokens, completion_tokens}}; None if a model is unlisted."""
    cost = 0.0
    for name, tok in tokens.items():
        price = next((p for prefix, p in PRICES.items() if name.startswith(prefix)), None)
        if price is None:
            return None
        cost += (tok.get("prompt_tokens", 0) * price[0] + tok.get("completion_tokens", 0) * price[1]) / 1e6
    return round(cost, 6)
