"""What the model cost, kept per sample and summed per task.

An adapter that counts (the `openai` one) returns each request's usage with its answer
(harness.model.Generated) or its failure (GenerationFailed.usage): requests and retries sent,
prompt and completion tokens, answers cut at max_tokens (`truncated`), and the model the endpoint
answered as. The sample's record keeps the sum over its requests as `usage`, and results.json's
`tasks.<task>.model_usage` is summed from the merged records: the same after a resume and at any
number of ranks, and it describes exactly the predictions the samples file holds (a sample computed
again replaces its earlier copy, and that copy's cost with it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from .chat import KEPT_FAILING, estimate_cost, failure_category

GENERATION_FAILED = "generation failed: "  # how a record's `error` starts when the model failed it


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def combine(usages: Iterable[dict[str, Any] | None]) -> dict[str, Any] | None:
    """One sample's usage from its requests' (None where a request counted nothing): every count
    summed, `model` the one model that answered (a sorted list if they differ, None if none did).
    None when no request counted anything."""
    present = [u for u in usages if isinstance(u, dict)]
    if not present:
        return None
    out: dict[str, Any] = {}
    models: set[str] = set()
    for u in present:
        for k, v in u.items():
            if k == "model":
                models.update([v] if isinstance(v, str) else [m for m in v or [] if isinstance(m, str)])
            elif _count(v):
                out[k] = out.get(k, 0) + v
    names = sorted(models)
    out["model"] = names[0] if len(names) == 1 else names or None
    return out


def task_usage(records: Iterable[dict[str, Any]], asked: str | None = None) -> dict[str, Any] | None:
    """A task's `model_usage` from its records: every count summed over the samples' `usage`
    (requests, retries, tokens, truncated answers), the estimated cost of those tokens (None when a
    model the endpoint answered as is not in harness.chat's price table), the models returned and
    those other than `asked` (substituted), and from the records' errors the samples the model
    failed (by reason; transient: a rerun computes them again) and whether the circuit breaker
    stopped the asking. None when no record carries usage (an adapter that counts nothing)."""
    counts: dict[str, int] = {}
    tokens: dict[str, Counter[str]] = {}
    models: set[str] = set()
    priced, seen = True, False
    failed, transient = 0, 0
    reasons: Counter[str] = Counter()
    breaker: str | None = None
    for rec in records:
        error = rec.get("error")
        if isinstance(error, str) and error.startswith(GENERATION_FAILED):
            reason = error[len(GENERATION_FAILED):]
            failed += 1
            transient += rec.get("transient") is True
            reasons[failure_category(reason)] += 1
            if breaker is None and reason.startswith(KEPT_FAILING):
                breaker = reason
        usage = rec.get("usage")
        if not isinstance(usage, dict):
            continue
        seen = True
        for k, v in usage.items():
            if k != "model" and _count(v):
                counts[k] = counts.get(k, 0) + v
        model = usage.get("model")
        if isinstance(model, str):
            models.add(model)
            tokens.setdefault(model, Counter()).update(
                {k: usage[k] for k in ("prompt_tokens", "completion_tokens") if _count(usage.get(k))})
        elif isinstance(model, list):  # answered by several models: the tokens cannot be split between them
            models.update(m for m in model if isinstance(m, str))
            priced = False
    if not seen:
        return None
    names = sorted(models)
    base = {k: counts.get(k, 0) for k in ("requests", "retries", "prompt_tokens", "completion_tokens", "truncated")}
    return {**base, **{k: v for k, v in counts.items() if k not in base},
            "failed": failed, "failed_transient": transient, "failure_reasons": dict(sorted(reasons.items())),
            "estimated_cost_usd": estimate_cost(tokens) if priced else None,
            "models_returned": names, "substituted": [m for m in names if asked and m != asked],
            "breaker_tripped": breaker is not None, "breaker_reason": breaker}


def asked_model(model_args: dict[str, Any] | None) -> str | None:
    """The model name an endpoint adapter asks for: its `model` arg, when it has one."""
    name = (model_args or {}).get("model")
    return name if isinstance(name, str) else None
