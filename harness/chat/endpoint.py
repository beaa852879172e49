"""An OpenAI-compatible chat endpoint (OpenAI, Azure OpenAI, or any server that speaks the API: vLLM,
SGLang, a proxy): where it is and how to reach it, checked before any work; one request through the
openai client with its body bounded and its failure classified.

Keys are read only from the environment, from the variable an Endpoint names (by default the openai
package's own: OPENAI_API_KEY; AZURE_OPENAI_API_KEY), so they never appear on a command line, in a
config or in results; the endpoint and API version may come from settings or from OPENAI_BASE_URL /
AZURE_OPENAI_ENDPOINT / OPENAI_API_VERSION. Every string an endpoint sends back passes `redact`
before it is kept anywhere.
"""

from __future__ import annotations

import email.utils
import importlib
import json
import math
import os
import re
import time
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

KEY_ENV = {"openai": "OPENAI_API_KEY", "azure": "AZURE_OPENAI_API_KEY"}
ENDPOINT_ENV = {"openai": "OPENAI_BASE_URL", "azure": "AZURE_OPENAI_ENDPOINT"}
VERSION_ENV = "OPENAI_API_VERSION"
KEYED_HOSTS = ("openai.com", "azure.com", "azure-api.net")  # hosted APIs: a key is always needed
OPENAI_URL = "https://api.openai.com/v1"

MAX_WAIT = 60.0  # seconds; caps any wait (Retry-After, backoff) so a run stays bounded
MAX_RESPONSE_BYTES = 1 << 20  # a chat completion is a few kB (a judge's verdict: a few hundred bytes)
MAX_MODEL_CHARS = 200  # a model name as the endpoint returns it, kept in every record

# USD per 1M text tokens (prompt, completion) of the model the API returned: its whole name, or a listed
# name followed by a snapshot date (gpt-4o-mini-2024-07-18, gpt-35-turbo-0125); never a prefix
# (gpt-4.1-nano is not gpt-4.1). The estimate is None when a returned model is not listed.
PRICES = {"gpt-4o": (2.5, 10.0), "gpt-4o-2024-05-13": (5.0, 15.0), "gpt-4o-mini": (0.15, 0.6),
          "gpt-4o-search-preview": (2.5, 10.0), "gpt-4o-mini-search-preview": (0.15, 0.6),
          "gpt-4.1": (2.0, 8.0), "gpt-4.1-mini": (0.4, 1.6), "gpt-4.1-nano": (0.1, 0.4),
          "gpt-3.5-turbo": (0.5, 1.5), "gpt-35-turbo": (0.5, 1.5)}
SNAPSHOT = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{4})$")  # -2024-07-18 (OpenAI), -0125 (older, Azure)

FATAL = {401: "the key was refused", 403: "the key may not use this model", 404: "no such model/deployment or path"}
NOT_RETRIED = {400, 413, 422}  # about this one request (e.g. a content filter): asking again will not help


@dataclass
class Completion:
    text: str | None  # the answer
    model: str | None  # the model the endpoint says answered (it may differ from the one asked for)
    usage: dict[str, int] = field(default_factory=dict)  # prompt_tokens, completion_tokens
    finish_reason: str | None = None  # "stop", "length" (cut at max_tokens), "content_filter", ...


class ChatError(Exception):
    """A request that brought no completion, classified for the retry loop (harness.chat.session).

    `fatal`: configuration, not this request (a refused key, no such model): stop the run.
    `retry`: asking again may help (load, a dropped connection, a bad or oversized body): a failure
    of the endpoint, counted towards the circuit breaker, never kept as a final answer; False for a
    refusal of this one request (a content filter): final. `wait`: seconds the server asked us to
    wait before the next try, as it said (the session decides what it waits). `reason` is already
    redacted (see `Endpoint.redact`).
    """

    def __init__(self, reason: str, *, fatal: bool = False, retry: bool = True, wait: float | None = None,
                 hint: str | None = None):
        super().__init__(reason)
        self.reason, self.fatal, self.retry, self.wait, self.hint = reason, fatal, retry, wait, hint


def sanitise_url(url: str | None) -> str | None:
    """Scheme, host, port and path only: user:password@ or ?key=... never reach results or logs."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _either(options: list[str]) -> str:
    return options[0] if len(options) == 1 else ", ".join(options[:-1]) + ", or " + options[-1]


@dataclass(frozen=True)
class Endpoint:
    """Where requests go and which variable holds the key. `base_url`: the server (OpenAI: default
    api.openai.com; Azure: the resource endpoint, the deployment being the request's model); None:
    from OPENAI_BASE_URL / AZURE_OPENAI_ENDPOINT. `key_env`: the *name* of the variable holding the
    key (None: OPENAI_API_KEY / AZURE_OPENAI_API_KEY)."""

    provider: str = "openai"  # "openai" (also any compatible base_url) | "azure"
    base_url: str | None = None
    api_version: str | None = None  # Azure; else OPENAI_API_VERSION
    key_env: str | None = None

    @property
    def key_var(self) -> str:
        return self.key_env or KEY_ENV[self.provider]

    def api_key(self) -> str | None:
        return os.environ.get(self.key_var) or None

    def url(self) -> str | None:
        return self.base_url or os.environ.get(ENDPOINT_ENV[self.provider]) or None

    def version(self) -> str | None:
        if self.provider != "azure":
            return self.api_version
        return self.api_version or os.environ.get(VERSION_ENV) or None

    def public(self) -> dict[str, Any]:
        """The endpoint actually used (settings or environment), the API version, and the *name* of
        the variable the key is read from (whether it is set, never its value)."""
        default = OPENAI_URL if self.provider == "openai" else None
        return {"base_url": sanitise_url(self.url()) or default, "api_version": self.version(),
                "key_env": self.key_var, "key_set": bool(self.api_key())}

    def scope(self) -> str:
        """The endpoint as cache keys and fingerprints name it: never a credential."""
        return (self.public()["base_url"] or "").rstrip("/")

    def secrets(self) -> list[str]:
        """What must never be written: the keys in the environment (the standard variables and this
        endpoint's), and the password and query values of the endpoint URL (a proxy's token), longest
        first."""
        found = [os.environ.get(env) for env in {*KEY_ENV.values(), self.key_var}]
        url = self.url()
        if url:
            parts = urlsplit(url)
            found += [parts.password, *(v for _, v in parse_qsl(parts.query))]
        return sorted({s for s in found if s and len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """`text` with every secret replaced: servers and proxies sometimes echo headers back, in an
        error message or even in the `model` field of a completion."""
        for secret in self.secrets():
            text = text.replace(secret, "[redacted]")
        return text

    def problem(self, who: str, flag: str, escape: str | None = None) -> tuple[str, str] | None:
        """(message, fix) when this endpoint cannot possibly work, else None. No network call. `who`
        names the user ("judge"), `flag` the option that sets its endpoint ("--judge"), `escape` a
        way to run without it ("run with --predict-only")."""
        env, url = self.key_var, self.url()
        where = f"{flag} base_url=URL or {ENDPOINT_ENV[self.provider]}"
        export = "export it (a key is never passed on the command line)"
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                return f"{who} endpoint {sanitise_url(url)!r} is not an http(s) URL", f"set {where}"
        if self.provider == "azure":
            if not self.api_key():
                return f"the Azure {who} needs {env} in the environment", _either([export] + ([escape] if escape else []))
            if url is None:
                return f"the Azure {who} needs an endpoint", f"set {where}"
            if not self.version():
                return f"the Azure {who} needs an API version", f"export {VERSION_ENV} or {flag} api_version=YYYY-MM-DD"
            return None
        host = (urlsplit(url).hostname or "") if url else "api.openai.com"
        if not self.api_key() and (url is None or host.endswith(KEYED_HOSTS)):
            fixes = [export, f"point {flag} base_url=URL at a compatible server"] + ([escape] if escape else [])
            return f"the OpenAI {who} needs {env} in the environment", _either(fixes)
        return None

    def client(self, timeout: float, cap: int = MAX_RESPONSE_BYTES) -> Any:
        """An async openai client with its own retries off (the session's are bounded, logged and
        Retry-After aware) and response bodies bounded to `cap` bytes."""
        import openai

        common: dict[str, Any] = {"timeout": timeout, "max_retries": 0, "http_client": http_client(timeout, cap)}
        if self.provider == "azure":
            return openai.AsyncAzureOpenAI(api_key=self.api_key(), azure_endpoint=self.url(),
                                           api_version=self.version(), **common)
        # A local compatible server needs no key, but the client insists on one: send a placeholder.
        return openai.AsyncOpenAI(api_key=self.api_key() or "unused", base_url=self.url(), **common)


class ResponseRefused(Exception):
    """A response body that will not be read: over the cap (as sent or decoded), or in an encoding
    whose size cannot be bounded. Raised while the body streams in, so at most the cap and one
    network chunk of it are ever held."""


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


class ChatClient:
    """Sends one chat request to an Endpoint and returns its Completion, or raises ChatError
    (classified: fatal, retried, final) with a redacted reason. Never retries on its own.
    `who` names the endpoint in messages ("judge"); `fix` is the hint of a fatal refusal."""

    def __init__(self, endpoint: Endpoint, timeout: float, who: str, fix: str, cap: int = MAX_RESPONSE_BYTES):
        self.endpoint, self.timeout, self.who, self.fix, self.cap = endpoint, timeout, who, fix, cap
        self._client: Any = None

    def redact(self, text: str) -> str:
        return self.endpoint.redact(text)

    def _clip(self, text: Any, n: int) -> str:
        """Redacted first, then cut: a cut first can leave the start of a key that no longer matches."""
        return self.redact(str(text))[:n]

    async def complete(self, body: dict[str, Any]) -> Completion:
        import openai

        if self._client is None:
            self._client = self.endpoint.client(self.timeout, self.cap)
        try:
            # client.post (the client's documented raw-request path: same auth, Azure deployment
            # routing, status errors) rather than chat.completions.create: create() spends ~3 ms of
            # CPU per call coercing plain-string messages through its TypedDict transform and
            # building response models, which capped one event loop near 125 requests/s
            # (the body bounded by http_client)
            raw = await self._client.post("/chat/completions", cast_to=bytes, body=body)
        except ResponseRefused as e:
            raise ChatError(self._clip(e, 200)) from None
        except openai.APITimeoutError:
            raise TimeoutError from None
        except openai.APIStatusError as e:
            code = e.status_code
            if code in FATAL:
                raise ChatError(f"the {self.who} endpoint answered HTTP {code}: {FATAL[code]} "
                                f"({self._clip(e.message, 200)})", fatal=True, hint=self.fix) from None
            reason = f"HTTP {code}" + (" rate limited" if code == 429 else "")
            if code in NOT_RETRIED:
                raise ChatError(f"{reason}: {self._clip(e.message, 200)}", retry=False) from None
            raise ChatError(reason, wait=retry_after(getattr(e.response, "headers", None))) from None
        except openai.APIConnectionError as e:
            if isinstance(e.__cause__, ResponseRefused):  # older clients wrap what the transport raised
                raise ChatError(self._clip(e.__cause__, 200)) from None
            raise ChatError(f"connection failed: {type(e).__name__}") from None
        except openai.OpenAIError as e:
            raise ChatError(f"bad response: {type(e).__name__}: {self._clip(e, 80)}") from None
        try:
            answer = read_completion(_decode(raw))
        except ValueError as e:  # a 200 whose body is not a chat completion
            raise ChatError(f"bad response: ValueError: {self._clip(e, 80)}") from None
        if answer.model is not None:
            answer.model = self._clip(answer.model, MAX_MODEL_CHARS)
        return answer

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def read_completion(resp: Any) -> Completion:
    """The answer text, model as returned, token usage and finish reason of a decoded chat completion
    body; ValueError for JSON of another shape."""
    choices = resp.get("choices") if isinstance(resp, dict) else None
    if not isinstance(choices, list):
        raise ValueError(f"not a chat completion: {type(resp).__name__}")  # noqa: TRY004 (handled with decode errors)
    usage = resp.get("usage")
    u = {k: _count(usage.get(k)) for k in ("prompt_tokens", "completion_tokens")} if isinstance(usage, dict) else {}
    first = choices[0] if choices and isinstance(choices[0], dict) else {}
    message = first.get("message")
    text = message.get("content") if isinstance(message, dict) else None
    model = resp.get("model")
    finish = first.get("finish_reason")
    return Completion(text if isinstance(text, str) else None, model if isinstance(model, str) else None, u,
                      finish if isinstance(finish, str) else None)


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:  # a proxy's HTML error page, a body cut short: show its start in the reason
        raise ValueError(f"body is not JSON: {raw[:60]!r}") from None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def retry_after(headers: Any) -> float | None:
    """Seconds the server asked us to wait: retry-after-ms, Retry-After seconds or HTTP date, as it
    said (the session caps what it waits, and takes a wait past the cap as a refusal)."""
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
        price = PRICES.get(name) or PRICES.get(SNAPSHOT.sub("", name))
        if price is None:
            return None
        cost += (tok.get("prompt_tokens", 0) * price[0] + tok.get("completion_tokens", 0) * price[1]) / 1e6
    return round(cost, 6)
