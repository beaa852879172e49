"""Paired tests on per-sample correctness (same samples, two runs): used by `gate` and `compare`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass
class PairedResult:
    """Discordant pairs and exact McNemar (sign test) p-values.

    `worse`: samples right in A, wrong in B; `better`: wrong in A, right in B.
    `p_worse`: one-sided p that B is no worse than A (small -> B is significantly worse).
    """

    n: int
    worse: int
    better: int
    p_worse: float
    p_two_sided: float
    delta: float  # accuracy(B) - accuracy(A) over the paired samples


def _binom_tail(k: int, n: int) -> float:
    """P(X >= k) for X ~ Binomial(n, 1/2), exact (big-int arithmetic, correctly rounded)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return sum(math.comb(n, i) for i in range(k, n + 1)) / 2**n


def mcnemar(a: list[bool], b: list[bool]) -> PairedResult:
    if len(a) != len(b):
        raise ValueError("paired test needs the same samples in both runs")
    worse = sum(1 for x, y in zip(a, b) if x and not y)
    better = sum(1 for x, y in zip(a, b) if y and not x)
    d = worse + better
    p_worse = _binom_tail(worse, d) if d else 1.0
    p_two = min(1.0, 2 * _binom_tail(max(worse, better), d)) if d else 1.0
    n = len(a)
    delta = (sum(b) - sum(a)) / n if n else 0.0
    return PairedResult(n, worse, better, p_worse, p_two, delta)


def paired_correctness(base: list[dict[str, Any]], cand: list[dict[str, Any]]) -> tuple[list[str], list[bool], list[bool]]:
    """Align two runs' records by sample id (only ids present in both, in base order).
    Errors / unparsed count as not correct, exactly as in the accuracy they are compared on."""
    by_id = {r["id"]: r for r in cand}
    ids = [r["id"] for r in base if r["id"] in by_id]
    base_by_id = {r["id"]: r for r in base}
    return ids, [bool(base_by_id[i].get("correct")) for i in ids], [bool(by_id[i].get("correct")) for i in ids]
