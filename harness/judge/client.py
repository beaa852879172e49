"""The OpenAI / Azure OpenAI judge provider (any OpenAI-compatible server too): where its endpoint
and credentials come from, checked before any work, and its requests through the openai client.

Keys are read only from the openai package's own environment variables (OPENAI_API_KEY;
AZURE_OPENAI_API_KEY), so they never appear on a command line, in a config or in results; the
endpoint and API version may come from the judge config or from OPENAI_BASE_URL /
AZURE_OPENAI_ENDPOINT / OPENAI_API_VERSION.
"""

from __future__ import annotations

import email.utils
import importlib
import json
import math
import os
import time
import zlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from ..errors import JudgeError
from .provider import MAX_MODEL_CHARS, MAX_RESPONSE_BYTES, Completion, JudgeProvider, ProviderError

if TYPE_CHECKING:
    from .config import JudgeConfig

KEY_ENV = {"openai": "OPENAI_API_KEY", "azure": "AZURE_OPENAI_API_KEY"}
ENDPOINT_ENV = {"openai": "OPENAI_BASE_URL", "azure": "AZURE_OPENAI_ENDPOINT"}
VERSION_ENV = "OPENAI_API_VERSION"
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


def secrets(config: JudgeConfig | None = None) -> list[str]:
    """What must never be written: the keys in the environment, and the password and query values
    of the configured endpoint URL (a proxy's token), longest first."""
    found = [os.environ.get(env) for env in KEY_ENV.values()]
    url = endpoint(config) if config is not None else None
    if url:
        parts = urlsplit(url)
        found += [parts.password, *(v for _, v in parse_qsl(parts.query))]
    return sorted({s for s in found if s and len(s) >= 4}, key=len, reverse=True)


def redact(text: str, config: JudgeConfig | None = None) -> str:
    """`text` with every secret replaced: servers and proxies sometimes echo headers back, in an
    error message or even in the `model` field of a completion."""
    for secret in secrets(config):
        text = text.replace(secret, "[redacted]")
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


class ResponseRefused(Exception):
    """A response body the judge will not read: over MAX_RESPONSE_BYTES (as sent or decoded), or in
    an encoding whose size cannot be bounded. Raised while the body streams in, so at most
    MAX_RESPONSE_BYTES and one network chunk of it are ever held."""


def _httpx(client_cls: type) -> Any:
    """The HTTP library the installed openai client is built on (httpx, or httpx2 in later releases)."""
    for cls in client_cls.__mro__:
        top = cls.__module__.split(".")[0]
        if cls.__name__ == "AsyncClient" and top.startswith("httpx"):
            return importlib.import_module(top)
    raise RuntimeError(f"{client_cls} is not an httpx AsyncClient")  # pragma: no cover


def http_client(timeout: float, cap: int = MAX_RESPONSE_BYTES) -> Any:
    """openai's own default async HTTP client (its timeout, pool limits, redirects, proxies), with
    every response body bounded to `cap` bytes as it streams in: the openai client would read a
    body of any size whole (a 300 MB answer held 2.9 GB at 6 in flight), success and error bodies
    alike. Its event hooks (public httpx API) see each response before any of its body is read,
    redirect hops included. It asks for an uncompressed body; one compressed anyway (gzip, deflate)
    is decoded here with the bound on the decoded bytes, and any other encoding is refused."""
    import openai

    base = openai.DefaultAsyncHttpxClient
    httpx = _httpx(base)

    class Bounded(httpx.AsyncByteStream):
        def __init__(self, inner: Any, decoder: Any):
            self.inner, self.decoder = inner, decoder

        async def __aiter__(self) -> AsyncIterator[bytes]:
            n = 0
            try:
                async for chunk in self.inner:
                    if self.decoder is not None:  # never more than the bound left, whatever the ratio
                        chunk = self.decoder.decompress(chunk, cap + 1 - n)
                    n += len(chunk)
                    if n > cap:  # (the response, closed on any error, drops the connection)
                        raise ResponseRefused(f"response over {cap} bytes")
                    yield chunk
                if self.decoder is not None:
                    tail = self.decoder.flush()
                    if n + len(tail) > cap:
                        raise ResponseRefused(f"response over {cap} bytes")
                    yield tail
            except zlib.error as e:
                raise ResponseRefused(f"response body does not decode: {e}") from None

        async def aclose(self) -> None:
            await self.inner.aclose()

    async def ask_identity(request: Any) -> None:
        request.headers["Accept-Encoding"] = "identity"

    async def bound(response: Any) -> None:
        length = response.headers.get("content-length")
        if length and length.strip().isdigit() and int(length) > cap:
            raise ResponseRefused(f"response over {cap} bytes: Content-Length {int(length)}")
        encoding = response.headers.get("content-encoding", "").strip().lower()
        decoder = None
        if encoding in ("gzip", "x-gzip", "deflate"):
            decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # a gzip or a zlib header
            del response.headers["content-encoding"]  # decoded here: never again, unbounded
        elif encoding not in ("", "identity"):
            raise ResponseRefused(f"response in Content-Encoding {encoding[:40]!r}, not asked for")
        response.stream = Bounded(response.stream, decoder)

    return base(timeout=timeout, event_hooks={"request": [ask_identity], "response": [bound]})


def make_client(config: JudgeConfig) -> Any:
    """An async openai client with its own retries off (ours are bounded, logged and Retry-After
    aware) and response bodies bounded to MAX_RESPONSE_BYTES."""
    import openai

    common: dict[str, Any] = {"timeout": config.timeout, "max_retries": 0, "http_client": http_client(config.timeout)}
    if config.provider == "azure":
        return openai.AsyncAzureOpenAI(api_key=api_key("azure"), azure_endpoint=endpoint(config),
                                       api_version=api_version(config), **common)
    # A local compatible server needs no key, but the client insists on one: send a placeholder.
    return openai.AsyncOpenAI(api_key=api_key("openai") or "unused", base_url=endpoint(config), **common)


FATAL = {401: "the key was refused", 403: "the key may not use this model", 404: "no such model/deployment or path"}
NOT_RETRIED = {400, 413, 422}  # about this one request (e.g. a content filter): asking again will not help


class OpenAIProvider(JudgeProvider):
    """OpenAI, Azure OpenAI (`provider=azure`: the deployment is `model`), or a compatible base_url."""

    def __init__(self, config: JudgeConfig):
        super().__init__(config)
        self._client: Any = None

    def preflight(self) -> None:
        preflight(self.config)

    def public(self) -> dict[str, Any]:
        return public_endpoint(self.config)

    def cache_scope(self) -> str:
        return (public_endpoint(self.config)["base_url"] or "").rstrip("/")

    def redact(self, text: str) -> str:
        return redact(text, self.config)

    def _clip(self, text: Any, n: int) -> str:
        """Redacted first, then cut: a cut first can leave the start of a key that no longer matches."""
        return self.redact(str(text))[:n]

    def estimate_cost(self, tokens: dict[str, dict[str, int]]) -> float | None:
        return estimate_cost(tokens)

    async def complete(self, body: dict[str, Any]) -> Completion:
        import openai

        if self._client is None:
            self._client = make_client(self.config)
        try:
            # client.post (the client's documented raw-request path: same auth, Azure deployment
            # routing, status errors) rather than chat.completions.create: create() spends ~3 ms of
            # CPU per call coercing plain-string messages through its TypedDict transform and
            # building response models, which capped one event loop near 125 judgements/s
            # (the body bounded by http_client)
            raw = await self._client.post("/chat/completions", cast_to=bytes, body=body)
        except ResponseRefused as e:
            raise ProviderError(self._clip(e, 200)) from None
        except openai.APITimeoutError:
            raise TimeoutError from None
        except openai.APIStatusError as e:
            code = e.status_code
            if code in FATAL:
                raise ProviderError(f"the judge endpoint answered HTTP {code}: {FATAL[code]} ({self._clip(e.message, 200)})",
                                    fatal=True, hint="check the key variable, --judge model= (Azure: the deployment "
                                                     "name), base_url and api_version") from None
            reason = f"HTTP {code}" + (" rate limited" if code == 429 else "")
            if code in NOT_RETRIED:
                raise ProviderError(f"{reason}: {self._clip(e.message, 200)}", retry=False) from None
            raise ProviderError(reason, wait=retry_after(getattr(e.response, "headers", None))) from None
        except openai.APIConnectionError as e:
            if isinstance(e.__cause__, ResponseRefused):  # older clients wrap what the transport raised
                raise ProviderError(self._clip(e.__cause__, 200)) from None
            raise ProviderError(f"connection failed: {type(e).__name__}") from None
        except openai.OpenAIError as e:
            raise ProviderError(f"bad response: {type(e).__name__}: {self._clip(e, 80)}") from None
        try:
            answer = _read(_decode(raw))
        except ValueError as e:  # a 200 whose body is not a chat completion
            raise ProviderError(f"bad response: ValueError: {self._clip(e, 80)}") from None
        if answer.model is not None:
            answer.model = self._clip(answer.model, MAX_MODEL_CHARS)
        return answer

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def _read(resp: Any) -> Completion:
    """The answer text, model as returned and token usage of a decoded chat completion body;
    ValueError for JSON of another shape."""
    choices = resp.get("choices") if isinstance(resp, dict) else None
    if not isinstance(choices, list):
        raise ValueError(f"not a chat completion: {type(resp).__name__}")  # noqa: TRY004 (handled with decode errors)
    usage = resp.get("usage")
    u = {k: _count(usage.get(k)) for k in ("prompt_tokens", "completion_tokens")} if isinstance(usage, dict) else {}
    first = choices[0] if choices and isinstance(choices[0], dict) else {}
    message = first.get("message")
    text = message.get("content") if isinstance(message, dict) else None
    model = resp.get("model")
    return Completion(text if isinstance(text, str) else None, model if isinstance(model, str) else None, u)


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:  # a proxy's HTML error page, a body cut short: show its start in the reason
        raise ValueError(f"body is not JSON: {raw[:60]!r}") from None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def retry_after(headers: Any) -> float | None:
    """Seconds the server asked us to wait: retry-after-ms, Retry-After seconds or HTTP date, as it
    said (the judge caps what it waits, and takes a wait past the cap as a refusal)."""
    headers = headers or {}
    try:
        if headers.get("retry-after-ms"):
            return _finite(float(headers["retry-after-ms"]) / 1000)
        value = headers.get("retry-after")
        if value:
            try:
                return _finite(float(value))
            except ValueError:
                return _finite(email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (ValueError, TypeError, OverflowError):
        pass
    return None


def _finite(seconds: float) -> float | None:
    return max(0.0, seconds) if math.isfinite(seconds) else None


def estimate_cost(tokens: dict[str, Any]) -> float | None:
    """USD for {model as returned: {prompt_tokens, completion_tokens}}; None if a model is unlisted."""
    cost = 0.0
    for name, tok in tokens.items():
        price = next((p for prefix, p in PRICES.items() if name.startswith(prefix)), None)
        if price is None:
            return None
        cost += (tok.get("prompt_tokens", 0) * price[0] + tok.get("completion_tokens", 0) * price[1]) / 1e6
    return round(cost, 6)
