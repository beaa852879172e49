"""The one GPT judge every judged task uses: OpenAI, Azure OpenAI or any compatible base_url.

Async with a concurrency limit, bounded retries with backoff that honours Retry-After, a
per-request timeout, answers parsed as data (never eval), a persistent content-keyed cache, and
`unscored` (with its reason) for anything that still fails: never a 0, never a pass.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .config import parse_kv
from .errors import ConfigError, JudgeError
from .judge_parse import TEMPLATE_DIR, Template, load_template, parse_verdict
from .judge_store import JudgeCache

# USD per 1M tokens (prompt, completion), for the cost estimate only.
PRICES = {"gpt-3.5-turbo": (0.5, 1.5), "gpt-35-turbo": (0.5, 1.5), "gpt-4o-mini": (0.15, 0.6), "gpt-4o": (2.5, 10.0),
          "gpt-4.1-mini": (0.4, 1.6), "gpt-4.1": (2.0, 8.0)}


@dataclass(frozen=True)
class JudgeConfig:
    provider: str = "openai"  # "openai" (also any compatible base_url) | "azure"
    model: str = "gpt-3.5-turbo-0125"  # model name, or the Azure deployment
    base_url: str | None = None
    api_version: str | None = None
    temperature: float = 0.0  # the official scripts used 0.7: re-judging then drifts; we pin 0
    concurrency: int = 8
    retries: int = 4
    timeout: float = 60.0
    max_tokens: int = 64
    backoff: float = 1.0  # first retry wait, doubling, with jitter
    retry_unscored: bool = False  # re-ask items a previous run left unscored

    @classmethod
    def resolve(cls, task_default: dict[str, Any], cli_spec: str | None) -> "JudgeConfig":
        values = {**task_default, **parse_kv(cli_spec, "--judge")}
        known = {f.name for f in fields(cls)}
        bad = sorted(set(values) - known)
        if bad:
            raise ConfigError(f"unknown --judge keys {bad}", hint=f"known: {', '.join(sorted(known))}")
        if values.get("provider", "openai") not in ("openai", "azure"):
            raise ConfigError(f"judge provider {values['provider']!r} is not openai or azure",
                              hint="an OpenAI-compatible server is provider=openai,base_url=URL")
        return cls(**values)

    def public(self) -> dict[str, Any]:
        """Safe to print and store: no credentials are part of the config at all."""
        return asdict(self)


@dataclass
class JudgeItem:
    template: str  # file under tasks/prompts/judge/
    fields: dict[str, str]


@dataclass
class Verdict:
    data: dict[str, Any] | None
    reason: str | None = None
    model: str | None = None
    cached: bool = False
    usage: dict[str, int] = field(default_factory=dict)


def _retry_after(error: Any, default: float) -> float:
    """Seconds the server asked us to wait (Retry-After / retry-after-ms), capped at 60."""
    headers = getattr(getattr(error, "response", None), "headers", None) or {}
    try:
        if headers.get("retry-after-ms"):
            return min(60.0, float(headers["retry-after-ms"]) / 1000)
        if headers.get("retry-after"):
            return min(60.0, float(headers["retry-after"]))
    except ValueError:
        pass
    return default


class Judge:
    def __init__(self, config: JudgeConfig, cache_dir: Path):
        self.config = config
        self.cache = JudgeCache(Path(cache_dir) / "judge.sqlite")
        self._stats = {"requests": 0, "cache_hits": 0, "retries": 0, "unscored": 0, "judged": 0,
                       "prompt_tokens": 0, "completion_tokens": 0}
        self._templates: dict[str, Template] = {}

    # -- credentials ------------------------------------------------------------------------
    def _key(self) -> str | None:
        env = "AZURE_OPENAI_API_KEY" if self.config.provider == "azure" else "OPENAI_API_KEY"
        return os.environ.get(env)

    def preflight(self) -> None:
        """Fail before any inference when the judge cannot possibly work (no network call)."""
        c = self.config
        if c.provider == "azure":
            if not self._key():
                raise JudgeError("the Azure judge needs AZURE_OPENAI_API_KEY in the environment",
                                 hint="export it (never put a key on the command line), or run with --predict-only")
            if not (c.base_url or os.environ.get("AZURE_OPENAI_ENDPOINT")):
                raise JudgeError("the Azure judge needs an endpoint", hint="export AZURE_OPENAI_ENDPOINT or --judge base_url=...")
            if not (c.api_version or os.environ.get("OPENAI_API_VERSION")):
                raise JudgeError("the Azure judge needs an API version", hint="export OPENAI_API_VERSION or --judge api_version=...")
        elif not self._key() and not (c.base_url or os.environ.get("OPENAI_BASE_URL")):
            raise JudgeError("the OpenAI judge needs OPENAI_API_KEY in the environment",
                             hint="export it, point --judge base_url=URL at a compatible server, or run with --predict-only")

    def _client(self) -> Any:
        import openai

        c = self.config
        common = {"timeout": c.timeout, "max_retries": 0}  # retries are ours: bounded, logged, Retry-After aware
        if c.provider == "azure":
            return openai.AsyncAzureOpenAI(api_key=self._key(), azure_endpoint=c.base_url or os.environ.get("AZURE_OPENAI_ENDPOINT"),
                                           api_version=c.api_version or os.environ.get("OPENAI_API_VERSION"), **common)
        # a local compatible server needs no key; the client insists on a value
        return openai.AsyncOpenAI(api_key=self._key() or "no-key", base_url=c.base_url, **common)

    # -- judging -----------------------------------------------------------------------------
    def template(self, name: str) -> Template:
        if name not in self._templates:
            self._templates[name] = load_template(TEMPLATE_DIR / name)
        return self._templates[name]

    def cache_key(self, item: JudgeItem) -> str:
        # Keyed by the configured model + template hash + fields: the model as returned by the API
        # is only known after a call, so it is stored in the entry (and in results) instead.
        t = self.template(item.template)
        blob = json.dumps([self.config.provider, self.config.model, self.config.temperature, t.hash, item.fields],
                          sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()

    def run(self, items: list[JudgeItem], progress: bool = True) -> list[Verdict]:
        return asyncio.run(self._run_all(items, progress))

    async def _run_all(self, items: list[JudgeItem], progress: bool) -> list[Verdict]:
        out: list[Verdict | None] = [None] * len(items)
        todo = []
        for i, it in enumerate(items):
            hit = self.cache.get(self.cache_key(it))
            if hit is not None and (hit.data is not None or not self.config.retry_unscored):
                hit.cached = True
                out[i] = hit
                self._stats["cache_hits"] += 1
            else:
                todo.append(i)
        if todo:
            client = self._client()
            sem = asyncio.Semaphore(max(1, self.config.concurrency))
            bar = tqdm(total=len(todo), desc="judge", unit="item", disable=not progress, leave=False)

            async def one(i: int) -> None:
                async with sem:
                    out[i] = await self._judge_one(client, items[i])
                self.cache.put(self.cache_key(items[i]), out[i])
                bar.update(1)

            try:
                await asyncio.gather(*(one(i) for i in todo))
            finally:
                bar.close()
                await client.close()
        for v in out:
            self._stats["judged" if v and v.data is not None else "unscored"] += 0 if v is None or v.cached else 1
        return [v for v in out if v is not None]

    async def _judge_one(self, client: Any, item: JudgeItem) -> Verdict:
        import openai

        t = self.template(item.template)
        messages = t.messages(item.fields)
        last = "no attempt"
        for attempt in range(self.config.retries + 1):
            if attempt:
                self._stats["retries"] += 1
            wait = self.config.backoff * (2 ** attempt) * (0.5 + random.random())
            try:
                self._stats["requests"] += 1
                resp = await client.chat.completions.create(model=self.config.model, messages=messages,
                                                            temperature=self.config.temperature,
                                                            max_tokens=self.config.max_tokens)
                usage = {"prompt_tokens": getattr(resp.usage, "prompt_tokens", 0) or 0,
                         "completion_tokens": getattr(resp.usage, "completion_tokens", 0) or 0} if resp.usage else {}
                for k, v in usage.items():
                    self._stats[k] += v
                text = (resp.choices[0].message.content or "") if resp.choices else ""
                data, problem = parse_verdict(text, t.schema)
                if data is not None:
                    return Verdict(data, None, getattr(resp, "model", None), usage=usage)
                last = f"unparseable judge answer ({problem}): {text[:120]!r}"
                wait = self.config.backoff * 0.1
            except openai.RateLimitError as e:
                last = "rate limited (429)"
                wait = _retry_after(e, wait)
            except openai.APITimeoutError:
                last = f"timed out after {self.config.timeout:g}s"
            except openai.APIStatusError as e:
                last = f"HTTP {e.status_code}"
                if e.status_code in (400, 401, 403, 404):  # will not get better by asking again
                    return Verdict(None, self._redact(f"{last}: {e.message}"))
            except openai.APIConnectionError as e:
                last = f"connection failed: {type(e).__name__}"
            except Exception as e:  # e.g. a 200 with a truncated body: the client cannot decode it
                last = f"bad response: {type(e).__name__}"
            if attempt < self.config.retries:
                await asyncio.sleep(wait)
        return Verdict(None, self._redact(f"{last} (after {self.config.retries + 1} attempts)"))

    def _redact(self, text: str) -> str:
        key = self._key()
        return text.replace(key, "[redacted]") if key else text

    def stats(self) -> dict[str, Any]:
        s = dict(self._stats)
        price = next((p for name, p in PRICES.items() if self.config.model.startswith(name)), None)
        s["estimated_cost_usd"] = (round((s["prompt_tokens"] * price[0] + s["completion_tokens"] * price[1]) / 1e6, 4)
                                   if price else None)
        return s
