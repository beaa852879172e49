"""The one GPT judge every judged task uses: OpenAI, Azure OpenAI or any compatible base_url.

Async with a concurrency limit, bounded retries with backoff that honours Retry-After, a hard
per-request timeout, answers parsed as data (never eval), a persistent cache keyed by content and
endpoint, and `unscored` (with its reason) for anything that still fails: never a 0, never a pass.
A refused credential or a missing model/deployment (401/403/404) stops the run with a JudgeError
instead: that is configuration, not a property of any one answer.

Only final verdicts are cached: an answer, or a failure that asking again cannot fix (the endpoint
refused this one request: 400/413/422; or it answered, every attempt, with nothing parseable).
A failure of the endpoint (429, 5xx, connection, timeout, a bad or oversized body) leaves the item
unscored *transient*: not cached, so a rerun asks again. After `breaker` such failures in a row,
once an item has used up its retries in that streak (a burst of 429s that retries ride out is not
an endpoint down), the run stops asking and leaves every item not yet judged unscored (transient)
with the reason, instead of waiting out retries for hours (the retry loop and the breaker are
harness.chat.Session, shared with the `openai` model adapter). Every string that comes from the endpoint (model names, error texts, answers quoted in reasons) is redacted before it
reaches a verdict, the cache, stats or a log.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..chat.endpoint import Completion
from ..chat.session import KEPT_FAILING, Session, failure_category, run_sync
from ..errors import JudgeError
from .config import JudgeConfig
from .parse import TEMPLATE_DIR, Template, load_template, parse_verdict
from .provider import provider_for
from .store import JudgeCache

log = logging.getLogger(__name__)
RERUN = "rerun `harness score OUTDIR` when the endpoint answers again"
__all__ = ["KEPT_FAILING", "RERUN", "Judge", "JudgeItem", "Verdict"]


@dataclass
class JudgeItem:
    template: str  # file name under tasks/prompts/judge/
    fields: dict[str, str]


@dataclass
class Verdict:
    data: dict[str, Any] | None  # the parsed answer, validated against the template's schema
    reason: str | None = None  # why unscored (data is None)
    model: str | None = None  # as returned by the API
    cached: bool = False  # no request was spent on it in this run
    usage: dict[str, int] = field(default_factory=dict)
    template_hash: str | None = None
    transient: bool = False  # unscored by a failure of the endpoint: not cached, a rerun asks again


class Judge:
    def __init__(self, config: JudgeConfig, cache_dir: Path, template_dir: Path | None = None):
        self.config = config
        self.template_dir = Path(template_dir) if template_dir else TEMPLATE_DIR
        self.cache = JudgeCache(Path(cache_dir) / "judge.sqlite")
        self._templates: dict[str, Template] = {}
        self._stats: Counter[str] = Counter()
        self._reasons: Counter[str] = Counter()
        self._models: Counter[str] = Counter()  # every verdict's model as returned (cached ones too)
        self.provider = provider_for(config)
        # retries, deadlines, Retry-After and the circuit breaker (its state lasts this judge's lifetime)
        self.session = Session(self.provider, retries=config.retries, timeout=config.timeout, backoff=config.backoff,
                               breaker=config.breaker, fatal=JudgeError, who="judge",
                               left="the items not yet judged are left unscored", rerun=RERUN)

    def preflight(self) -> None:
        """Fail before any inference when the judge cannot possibly work (no network call)."""
        self.provider.preflight()

    def template(self, name: str) -> Template:
        if name not in self._templates:
            self._templates[name] = load_template(self.template_dir / name)
        return self._templates[name]

    def cache_key(self, item: JudgeItem) -> str:
        # Content key: everything that shapes the answer. The judge model *as returned by the API*
        # is only known after a call, so the lookup uses the endpoint (base URL, never a credential)
        # and the configured model (Azure: the deployment) with the provider and sampling settings;
        # the returned model is stored in the entry and in every result.
        c, t = self.config, self.template(item.template)
        blob = json.dumps([c.provider, self.provider.cache_scope(), c.model, c.temperature, c.top_p, c.max_tokens,
                           t.name, t.hash, item.fields], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()

    # -- running -------------------------------------------------------------------------------
    def run(self, items: list[JudgeItem], progress: bool = True) -> list[Verdict]:
        """Verdicts in the order of `items`. Raises JudgeError on a refused key or unknown model."""
        if not items:
            return []
        return run_sync(self._run_all(items, progress))  # inside an event loop (a notebook): a fresh loop

    async def _run_all(self, items: list[JudgeItem], progress: bool) -> list[Verdict]:
        keys = [self.cache_key(it) for it in items]
        done: dict[str, Verdict] = {}
        todo: dict[str, JudgeItem] = {}
        for key, item in zip(keys, items):
            if key in done or key in todo:
                continue
            hit = self.cache.get(key)
            if hit is not None and (hit.get("data") is not None or not self.config.retry_unscored):
                done[key] = Verdict(hit.get("data"), self.session.clean(hit.get("reason")), self.session.clean(hit.get("model")),
                                    True, hit.get("usage") or {}, hit.get("template_hash"))
            else:
                todo[key] = item
        if todo:
            await self._ask_all(todo, done, progress)
        out, seen = [], set()
        for key in keys:
            v = done[key]
            if key not in todo:
                self._stats["cache_hits"] += 1
            elif key in seen:  # the same content twice in this run: asked once
                v = replace(v, cached=True)
                self._stats["deduplicated"] += 1
            seen.add(key)
            self._stats["items"] += 1
            self._stats["judged" if v.data is not None else "unscored"] += 1
            self._stats["unscored_transient"] += v.transient
            if v.model:
                self._models[v.model] += 1
            if v.data is None:
                self._reasons[failure_category(v.reason)] += 1
            out.append(v)
        return out

    async def _ask_all(self, todo: dict[str, JudgeItem], done: dict[str, Verdict], progress: bool) -> None:
        sem = asyncio.Semaphore(self.config.concurrency)
        bar = tqdm(total=len(todo), desc="judge", unit="item", disable=not progress, leave=False)
        self.session.open()  # the breaker's wake-up event belongs to this run's loop

        async def one(key: str, item: JudgeItem) -> None:
            async with sem:
                v = await self._ask(item)
            done[key] = v
            if not v.transient:  # final only: a failure of the endpoint is asked again by a rerun
                self.cache.put(key, {"data": v.data, "reason": v.reason, "model": v.model, "usage": v.usage,
                                     "template_hash": v.template_hash})
            bar.update(1)

        tasks = [asyncio.create_task(one(k, it)) for k, it in todo.items()]
        try:
            await asyncio.gather(*tasks)
        except BaseException:  # a fatal JudgeError (or Ctrl-C): stop the rest, keep what is cached
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            bar.close()
            await self.session.close()

    async def _ask(self, item: JudgeItem) -> Verdict:
        t = self.template(item.template)

        def accept(answer: Completion) -> tuple[Any, str | None]:
            data, problem = parse_verdict(answer.text, t.schema)
            if data is not None:
                return data, None
            return None, f"unparseable answer: {problem}; got {self.session.clean(str(answer.text))[:80]!r}"

        out = await self.session.ask(self._body(t.messages(item.fields)), accept, self.config.model)
        if out.ok:
            return Verdict(out.value, None, out.model, False, out.usage, t.hash)
        return Verdict(None, self.session.clean(out.reason), out.model, False, out.usage, t.hash, out.transient)

    def _body(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        """The request: the seed's fields (eval_video_oqa_*.py), with our sampling settings."""
        c = self.config
        body: dict[str, Any] = {"model": c.model, "messages": messages, "temperature": c.temperature,
                                "max_tokens": c.max_tokens, "frequency_penalty": 0, "presence_penalty": 0}
        if c.top_p is not None:
            body["top_p"] = c.top_p
        return body

    def substituted(self) -> list[str]:
        """Models the endpoint answered with other than the one asked for: a snapshot behind an
        alias moves scores (up to 10 points on the same predictions), so every table says so."""
        return [m for m in sorted(self._models) if m != self.config.model]

    def stats(self) -> dict[str, Any]:
        """Counts for results.json: items, cache hits, requests, retries, unscored (by reason; those
        a failure of the endpoint left, that a rerun asks again: unscored_transient), whether the
        circuit breaker stopped the judging and why, tokens and the estimated cost of this run's
        requests, models as returned, template hashes."""
        counts = self._stats + self.session.counts  # the session counts requests and retries
        s: dict[str, Any] = {k: counts[k] for k in ("items", "cache_hits", "deduplicated", "requests", "retries",
                                                    "judged", "unscored", "unscored_transient")}
        s["unscored_reasons"] = dict(self._reasons)
        s["breaker_tripped"] = self.session.tripped is not None
        s["breaker_reason"] = self.session.tripped
        tokens = self.session.tokens
        s["prompt_tokens"] = sum(c["prompt_tokens"] for c in tokens.values())
        s["completion_tokens"] = sum(c["completion_tokens"] for c in tokens.values())
        s["estimated_cost_usd"] = self.provider.estimate_cost(tokens)
        s["models_returned"] = sorted(self._models)
        s["substituted"] = self.substituted()
        s["templates"] = {name: t.hash for name, t in sorted(self._templates.items())}
        return s
