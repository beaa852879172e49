"""Asking one endpoint many things: bounded retries with backoff that honours Retry-After, a hard
deadline per attempt, and a circuit breaker; the judge and the `openai` model adapter both ask
through a Session.

A failure of the endpoint (429, 5xx, connection, timeout, a bad or oversized body) is retried; when
it outlasts the retries the outcome is *transient*: asking again later may work, so the caller
keeps nothing final (the judge caches nothing, the model's sample is computed again by a rerun).
A refusal of one request (400/413/422) or an answer the caller cannot use, every attempt, is final.
A refused key or a missing model/deployment (401/403/404) raises the caller's error class: that is
configuration, not a property of any one request. After `breaker` endpoint failures in a row, once a
request has used up its retries in that streak (a burst of 429s that retries ride out is not an
endpoint down), the session stops asking: every request not yet answered fails at once, transient,
with the reason, instead of waiting out retries for hours. Every string that comes from the endpoint
is redacted before it reaches an outcome or a log.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import random
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ..errors import HarnessError
from .endpoint import MAX_WAIT, ChatError, Completion

log = logging.getLogger(__name__)
KEPT_FAILING = "endpoint kept failing"
T = TypeVar("T")


def failure_category(reason: str | None) -> str:
    """The kind of a failure reason, as stats count them: its head, without the details (the
    server's message, the attempts, the advice): "HTTP 503", "timed out after 5 s", KEPT_FAILING."""
    head = reason or "?"
    for cut in (":", ";", " (after", ", Retry-After"):
        head = head.split(cut)[0]
    return head


class Asker(Protocol):
    """What a Session sends through (ChatClient, a judge provider)."""

    async def complete(self, body: dict[str, Any]) -> Completion: ...

    async def close(self) -> None: ...

    def redact(self, text: str) -> str: ...


@dataclass
class Outcome:
    """One request's end: `ok` with what `accept` made of the answer, or the reason it failed."""

    ok: bool
    value: Any = None
    reason: str | None = None  # why it failed (redacted)
    model: str | None = None  # as returned by the endpoint
    usage: dict[str, int] = field(default_factory=dict)  # over every attempt
    transient: bool = False  # a failure of the endpoint: asking again later may work
    completion: Completion | None = None  # the last answer, when there was one
    requests: int = 0  # attempts sent for this request
    retries: int = 0  # of them, the ones after a failed attempt


# accept(completion) -> (value, None) when the answer is usable, else (None, why not): asked again
Accept = Callable[[Completion], tuple[Any, str | None]]


class FinalFailure(Exception):
    """Raised by an `accept` for an answer that asking again will not change (a completion the
    endpoint's content filter cut): the request fails at once, final, with this reason."""


class Session:
    """The retry loop and circuit breaker of one endpoint, for the life of its user (a judge, a model
    adapter). `who` names it in the breaker's warning ("judge"); `left` says what a trip leaves
    behind; `rerun` says what to do then; `fatal` is the error a refused key raises."""

    def __init__(self, asker: Asker, *, retries: int, timeout: float, backoff: float, breaker: int,
                 fatal: type[HarnessError], who: str, left: str, rerun: str, waiter: str | None = None):
        self.asker = asker
        self.waiter = waiter or f"the {who}"  # who waits out a Retry-After: "the judge"
        self.retries, self.timeout, self.backoff, self.breaker = retries, timeout, backoff, breaker
        self.fatal, self.who, self.left, self.rerun = fatal, who, left, rerun
        self.counts: Counter[str] = Counter()  # requests, retries
        self.tokens: dict[str, Counter[str]] = {}  # per model as returned, for the cost estimate
        self._failures = 0  # endpoint failures in a row, across all requests in flight
        self._gave_up = False  # whether a request used up its retries in that streak
        self.tripped: str | None = None  # why the breaker stopped this session (until reset())
        self._trip: asyncio.Event | None = None  # set when it trips: wakes every wait of this run

    def reset(self) -> None:
        """The breaker closed again, its count of failures in a row at zero: the endpoint is asked
        afresh (a user calls it when a new run starts; a trip otherwise lasts the session's life)."""
        self._failures, self._gave_up, self.tripped = 0, False, None

    # -- one run (one event loop) ------------------------------------------------------------------------
    def open(self) -> None:
        """Before a run's requests, inside its event loop (an event belongs to one loop)."""
        self._trip = asyncio.Event()
        if self.tripped:
            self._trip.set()

    async def close(self) -> None:
        """After a run's requests: connections released (they belong to this loop too)."""
        self._trip = None
        await self.asker.close()

    # -- one request -----------------------------------------------------------------------------------
    async def ask(self, body: dict[str, Any], accept: Accept, asked_model: str) -> Outcome:
        """Send `body` until `accept` takes the answer, the retries run out, the request is refused,
        or the breaker trips. Raises `fatal` on a refused key or unknown model."""
        usage: Counter[str] = Counter()  # tokens, over every answer
        tries: Counter[str] = Counter()  # requests (attempts) and retries of this one request
        last, model, transient, completion = "no attempt", None, False, None
        for attempt in range(self.retries + 1):
            if self.tripped:  # the endpoint is down: not asked (again)
                return self._failed(self.tripped, model, usage, True, completion, tries)
            wait = min(MAX_WAIT, self.backoff * 2 ** attempt * random.uniform(0.5, 1.5))
            self.counts["requests"] += 1
            tries["requests"] += 1
            try:
                async with asyncio.timeout(self.timeout):  # hard deadline, even for a server that trickles bytes
                    answer = await self.asker.complete(body)
            except TimeoutError:
                last, transient = f"timed out after {self.timeout:g} s", True
                self._endpoint_failed(last, gave_up=attempt == self.retries)
            except ChatError as e:
                if e.fatal:
                    raise self.fatal(self.clean(e.reason), hint=e.hint) from None
                last, transient = self.clean(e.reason), e.retry
                if not e.retry:  # a refusal of this request: the endpoint works, asking again will not help
                    self._endpoint_answered()
                    return self._failed(last, model, usage, False, completion, tries)
                if e.wait is not None and e.wait > MAX_WAIT:  # "come back in an hour": a refusal, not a wait
                    last += f", Retry-After {e.wait:.0f} s (longer than {self.waiter} waits)"
                    self._endpoint_failed(last, gave_up=True)
                    return self._failed(f"{last}; {self.rerun}", model, usage, True, completion, tries)
                self._endpoint_failed(last, gave_up=attempt == self.retries)
                wait = wait if e.wait is None else e.wait  # the server knows when it can take us again
            else:
                self._endpoint_answered()
                completion = answer
                model = self.clean(answer.model) or model
                usage.update(answer.usage)
                self.tokens.setdefault(model or asked_model, Counter()).update(answer.usage)
                try:
                    value, problem = accept(answer)
                except FinalFailure as e:  # the endpoint works; this request's answer will not change
                    return self._failed(str(e), model, usage, False, completion, tries)
                if problem is None:
                    return Outcome(True, value, None, model, dict(usage), False, answer, tries["requests"],
                                   tries["retries"])
                last, transient = self.clean(problem), False
                wait = min(wait, self.backoff)  # a bad answer is not server load: ask again soon
            if attempt < self.retries:
                self.counts["retries"] += 1
                tries["retries"] += 1
                await self._pause(wait)
        # the last failure decides: the endpoint's (asking again later may work) or the answer's
        reason = f"{last} (after {self.retries + 1} attempts)" + (f"; {self.rerun}" if transient else "")
        return self._failed(reason, model, usage, transient, completion, tries)

    def _failed(self, reason: str, model: str | None, usage: Counter[str], transient: bool,
                completion: Completion | None, tries: Counter[str]) -> Outcome:
        return Outcome(False, None, self.clean(reason), model, dict(usage), transient, completion, tries["requests"],
                       tries["retries"])

    def clean(self, text: Any) -> Any:
        """A string from the endpoint as it may be kept: redacted (None stays None)."""
        return self.asker.redact(text) if isinstance(text, str) else text

    # -- the breaker -----------------------------------------------------------------------------------
    def _endpoint_answered(self) -> None:
        self._failures, self._gave_up = 0, False

    def _endpoint_failed(self, reason: str, gave_up: bool) -> None:
        """One more failure of the endpoint in a row (`gave_up`: the request asks no more). At `breaker`
        of them, once a request has given up, stop asking: a burst that retries ride out never trips it."""
        self._failures += 1
        self._gave_up = self._gave_up or gave_up
        n = self.breaker
        if n and self._failures >= n and self._gave_up and not self.tripped:
            self.tripped = (f"{KEPT_FAILING}: not asked after {self._failures} failures in a row "
                            f"(last: {reason}); {self.rerun}")
            log.warning("the %s endpoint kept failing: %d failures in a row (last: %s); %s: %s", self.who,
                        self._failures, reason, self.left, self.rerun)
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


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from synchronous code; from inside a running event loop (a
    notebook), on a fresh loop in a thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
