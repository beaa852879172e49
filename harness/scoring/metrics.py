"""Shared scoring: record states, accuracy with a bootstrap CI, grouped breakdowns.

A scored record (one line of OUTDIR/samples/<task>.jsonl after scoring) has:
  id, task, subset, prediction, target, parsed, rule, correct (bool|None),
  state: "scored" | "unparsed" | "error" | "unscored" | "submitted",
  score (float|None, judge score), frames {policy, indices, timestamps}, error, meta.
Unparsed, unscored and error are their own states: counted, never folded into a score.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

STATES = ("scored", "unparsed", "error", "unscored", "submitted")
BOOTSTRAP_ROUNDS = 1000
SEED_FALLBACK_INDEX = 2  # the official VideoLLaMA2 scripts pick option index 2 when nothing parses
SEED_FALLBACK_LETTER = "ABCDE"[SEED_FALLBACK_INDEX]


def bootstrap_ci(values: Iterable[float], rounds: int = BOOTSTRAP_ROUNDS, alpha: float = 0.05,
                 seed: int = 0) -> list[float] | None:
    """Percentile bootstrap CI of the mean. Fixed seed: the same records give the same interval."""
    arr = np.asarray(list(values), dtype=float)
    if arr.size == 0:
        return None
    rng = np.random.default_rng(seed)
    # Resample in chunks of rounds: one (rounds x n) index matrix is 1.6 GB at n = 100k; a chunk
    # holds ~250k indices (2 MB) plus their values.
    chunk = max(1, 250_000 // arr.size)
    means = np.concatenate([arr[rng.integers(0, arr.size, size=(min(chunk, rounds - i), arr.size))].mean(axis=1)
                            for i in range(0, rounds, chunk)])
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return [round(float(lo), 6), round(float(hi), 6)]


def state_counts(records: list[dict[str, Any]]) -> dict[str, int]:
    counts = {s: 0 for s in STATES}
    for r in records:
        counts[r.get("state", "error")] += 1
    return {"n_samples": len(records), "n_scored": counts["scored"], "n_unparsed": counts["unparsed"],
            "n_errors": counts["error"], "n_unscored": counts["unscored"], "n_submitted": counts["submitted"]}


def mcq_accuracy(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy over all records with a label: unparsed and errored count as not correct (the
    denominator is the benchmark's), and are reported beside it. `accuracy_seed_compatible`
    replays the official scripts' fallback (unparsed -> option C) for comparison with papers."""
    labelled = [r for r in records if r.get("state") != "submitted"]
    correct = [1.0 if r.get("correct") else 0.0 for r in labelled]
    seed = [1.0 if (r.get("correct") or (r.get("state") == "unparsed"
                                         and r.get("target") == SEED_FALLBACK_LETTER)) else 0.0
            for r in labelled]
    out: dict[str, Any] = {"accuracy": round(float(np.mean(correct)), 6) if correct else None,
                           "accuracy_ci": bootstrap_ci(correct)}
    out["accuracy_seed_compatible"] = round(float(np.mean(seed)), 6) if seed else None
    return out


def grouped(records: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any],
            metric: Callable[[list[dict[str, Any]]], dict[str, Any]]) -> dict[str, Any]:
    """metric() per group, groups in sorted order; records whose key is None are skipped."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        k = key(r)
        if k is not None:
            groups[str(k)].append(r)
    return {k: {**metric(v), "n": len(v)} for k, v in sorted(groups.items())}



