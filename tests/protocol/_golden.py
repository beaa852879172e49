"""Shared helpers of the protocol tests: the golden files and exact-difference reporting.

The golden data in tests/protocol/golden/ was produced by running the official VideoLLaMA2
evaluation code (DAMO-NLP-SG/VideoLLaMA2 @ c0bb03a); see golden/README.md. These helpers only
read it; nothing here writes into golden/.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).resolve().parent / "golden"
REPO = Path(__file__).resolve().parents[2]
OFFICIAL_COMMIT = "c0bb03a"
# (golden npz, backend) -> max |u_ours - u_official| measured by test_pixels.py; printed by conftest
PIXEL_DIFFS: dict[tuple[str, str], int] = {}


@cache
def golden(name: str) -> dict[str, Any]:
    """A golden JSON file (parsed once per session). Callers must not mutate it."""
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"))


def cases(name: str) -> list[dict[str, Any]]:
    return golden(name)["cases"]


def first_difference(expected: str, got: str, context: int = 40) -> str:
    """Where two strings first differ, with repr() context on both sides (empty when equal)."""
    if expected == got:
        return ""
    n = min(len(expected), len(got))
    i = next((k for k in range(n) if expected[k] != got[k]), n)
    lo = max(0, i - context)
    return (f"first difference at char {i} (len expected {len(expected)}, got {len(got)}):\n"
            f"  expected ...{expected[lo:i + context]!r}\n"
            f"  got      ...{got[lo:i + context]!r}")


def assert_same_text(expected: str, got: str, what: str) -> None:
    """Exact equality of two protocol strings; the failure shows the first differing byte."""
    assert isinstance(got, str), f"{what}: got {type(got).__name__}, not a str"
    diff = first_difference(expected, got)
    assert not diff, f"{what}: {diff}"


def report(mismatches: list[str], total: int, what: str, show: int = 8) -> None:
    """Fail with the first few mismatches (one line each) when there are any."""
    if mismatches:
        head = "\n".join(f"  - {m}" for m in mismatches[:show])
        more = f"\n  ... and {len(mismatches) - show} more" if len(mismatches) > show else ""
        raise AssertionError(f"{len(mismatches)} of {total} {what} differ from the official output:\n{head}{more}")
