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
with the reason, instead of waiting out retries for hours. Every string that comes
from the endpoint (model names, error texts, answers quoted in reasons) is redacted before it
reaches a verdict, the cache, stats or a log.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import logging
import random
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..errors import JudgeError
from .config import JudgeConfig
from .parse import TEMPLATE_DIR, Template, load_template, parse_verdict
from .provider import MAX_WAIT, ProviderError, provider_for
from .store import JudgeCache

log = logging.getLogger(__name__)
RERUN = "rerun `harness score OUTDIR` when the endpoint answers again"
KEPT_FAILING = "endpoint kept failing"


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
        self._tokens: dict[str, Counter[str]] = {}  # per model as returned, for the cost estimate
        self._models: Counter[str] = Counter()  # every verdict's model as returned (cached ones too)
        self.provider = provider_for(config)
        self._failures = 0  # endpoint failures in a row, across all items in flight
        self._gave_up = False  # whether an item used up its retries in that streak
        self._tripped: str | None = None  # why the breaker stopped this judge (for its lifetime)
        self._trip: asyncio.Event | None = None  # set when it trips: wakes every wait of this run

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
        coro = self._run_all(items, progress)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(coro)
        return _in_thread(coro)  # called from inside an event loop (a notebook): use a fresh loop

    async def _run_all(self, items: list[JudgeItem], progress: bool) -> list[Verdict]:
        keys = [self.cache_key(it) for it in items]
        done: dict[str, Verdict] = {}
        todo: dict[str, JudgeItem] = {}
        for key, item in zip(keys, items):
            if key in done or key in todo:
                continue
            hit = self.cache.get(key)
            if hit is not None and (hit.get("data") is not None or not self.config.retry_unscored):
                done[key] = Verdict(hit.get("data"), self._clean(hit.get("reason")), self._clean(hit.get("model")),
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
                self._reasons[_category(v.reason)] += 1
            out.append(v)
        return out

    async def _ask_all(self, todo: dict[str, JudgeItem], done: dict[str, Verdict], progress: bool) -> None:
        sem = asyncio.Semaphore(self.config.concurrency)
        bar = tqdm(total=len(todo), desc="judge", unit="item", disable=not progress, leave=False)
        self._trip = asyncio.Event()  # an event belongs to one loop: one per run
        if self._tripped:
            self._trip.set()

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
            self._trip = None
            await self.provider.close()

    async def _ask(self, item: JudgeItem) -> Verdict:
        c, t = self.config, self.template(item.template)
        messages = t.messages(item.fields)
        usage: Counter[str] = Counter()
        last, model, transient = "no attempt", None, False
        for attempt in range(c.retries + 1):
            if self._tripped:  # the endpoint is down: not asked (again)
                return self._unscored(self._tripped, model, usage, t, transient=True)
            wait = min(MAX_WAIT, c.backoff * 2 ** attempt * random.uniform(0.5, 1.5))
            self._stats["requests"] += 1
            try:
                async with asyncio.timeout(c.timeout):  # hard deadline, even for a server that trickles bytes
                    answer = await self.provider.complete(self._body(messages))
            except TimeoutError:
                last, transient = f"timed out after {c.timeout:g} s", True
                self._endpoint_failed(last, gave_up=attempt == c.retries)
            except ProviderError as e:
                if e.fatal:
                    raise JudgeError(self._clean(e.reason), hint=e.hint) from None
                last, transient = self._clean(e.reason), e.retry
                if not e.retry:  # a refusal of this request: the endpoint works, asking again will not help
                    self._endpoint_answered()
                    return self._unscored(last, model, usage, t)
                if e.wait is not None and e.wait > MAX_WAIT:  # "come back in an hour": a refusal, not a wait
                    last += f", Retry-After {e.wait:.0f} s (longer than the judge waits)"
                    self._endpoint_failed(last, gave_up=True)
                    return self._unscored(f"{last}; {RERUN}", model, usage, t, transient=True)
                self._endpoint_failed(last, gave_up=attempt == c.retries)
                wait = wait if e.wait is None else e.wait  # the server knows when it can take us again
            else:
                self._endpoint_answered()
                model = self._clean(answer.model) or model
                usage.update(answer.usage)
                self._tokens.setdefault(model or c.model, Counter()).update(answer.usage)
                data, problem = parse_verdict(answer.text, t.schema)
                if data is not None:
                    return Verdict(data, None, model, False, dict(usage), t.hash)
                last, transient = f"unparseable answer: {problem}; got {self._clean(str(answer.text))[:80]!r}", False
                wait = min(wait, c.backoff)  # a bad answer is not server load: ask again soon
            if attempt < c.retries:
                self._stats["retries"] += 1
                await self._pause(wait)
        # the last failure decides: the endpoint's (asking again later may work) or the answer's
        reason = f"{last} (after {c.retries + 1} attempts)" + (f"; {RERUN}" if transient else "")
        return self._unscored(reason, model, usage, t, transient=transient)

    def _endpoint_answered(self) -> None:
        self._failures, self._gave_up = 0, False

    def _endpoint_failed(self, reason: str, gave_up: bool) -> None:
        """One more failure of the endpoint in a row (`gave_up`: the item asks no more). At `breaker`
        of them, once an item has given up, stop asking: a burst that retries ride out never trips it."""
        self._failures += 1
        self._gave_up = self._gave_up or gave_up
        n = self.config.breaker
        if n and self._failures >= n and self._gave_up and not self._tripped:
            self._tripped = (f"{KEPT_FAILING}: not asked after {self._failures} failures in a row "
                             f"(last: {reason}); {RERUN}")
            log.warning("the judge endpoint kept failing: %d failures in a row (last: %s); the items not yet "
                        "judged are left unscored: %s", self._failures, reason, RERUN)
            if self._trip is not None:
                self._trip.set()

    async def _pause(self, seconds: float) -> None:
        """Sleep before a retry; cut short when the breaker trips (nothing more will be asked)."""
        if self._trip is None:
            await asyncio.sleep(seconds)
            return
        try:
            async with asyncio.timeout(seconds):
                await self._trip.wait()
        except TimeoutError:
            pass

    def _body(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        """The request: the seed's fields (eval_video_oqa_*.py), with our sampling settings."""
        c = self.config
        body: dict[str, Any] = {"model": c.model, "messages": messages, "temperature": c.temperature,
                                "max_tokens": c.max_tokens, "frequency_penalty": 0, "presence_penalty": 0}
        if c.top_p is not None:
            body["top_p"] = c.top_p
        return body

    def _unscored(self, reason: str, model: str | None, usage: Counter[str], t: Template,
                  transient: bool = False) -> Verdict:
        return Verdict(None, self._clean(reason), model, False, dict(usage), t.hash, transient)

    def _clean(self, text: Any) -> Any:
        """A string from the endpoint as it may be kept: redacted (None stays None)."""
        return self.provider.redact(text) if isinstance(text, str) else text

    def substituted(self) -> list[str]:
        """Models the endpoint answered with other than the one asked for: a snapshot behind an
        alias moves scores (up to 10 points on the same predictions), so every table says so."""
        return [m for m in sorted(self._models) if m != self.config.model]

    def stats(self) -> dict[str, Any]:
        """Counts for results.json: items, cache hits, requests, retries, unscored (by reason; those
        a failure of the endpoint left, that a rerun asks again: unscored_transient), whether the
        circuit breaker stopped the judging and why, tokens and the estimated cost of this run's
        requests, models as returned, template hashes."""
        s: dict[str, Any] = {k: self._stats[k] for k in ("items", "cache_hits", "deduplicated", "requests", "retries",
                                                          "judged", "unscored", "unscored_transient")}
        s["unscored_reasons"] = dict(self._reasons)
        s["breaker_tripped"] = self._tripped is not None
        s["breaker_reason"] = self._tripped
        s["prompt_tokens"] = sum(c["prompt_tokens"] for c in self._tokens.values())
        s["completion_tokens"] = sum(c["completion_tokens"] for c in self._tokens.values())
        s["estimated_cost_usd"] = self.provider.estimate_cost(self._tokens)
        s["models_returned"] = sorted(self._models)
        s["substituted"] = self.substituted()
        s["templates"] = {name: t.hash for name, t in sorted(self._templates.items())}
        return s


def _category(reason: str | None) -> str:
    """The kind of an unscored reason, as stats count them: its head, without the details."""
    head = reason or "?"
    for cut in (":", ";", " (after", ", Retry-After"):
        head = head.split(cut)[0]
    return head


def _in_thread(coro: Coroutine[Any, Any, list[Verdict]]) -> list[Verdict]:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
