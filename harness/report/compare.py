"""`harness compare RUN_A RUN_B`: per-task accuracy deltas with the paired (McNemar) test on the
samples both runs share, and the samples whose correctness flipped. Reads result files only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tabulate import tabulate

from ..records import read_records
from ..results import load_results
from .stats import mcnemar, paired_correctness


def compare(a: Path, b: Path) -> tuple[list[list[Any]], dict[str, list[tuple[str, str]]]]:
    ra, rb = load_results(a), load_results(b)
    rows, flips = [], {}
    for task in sorted(set(ra["tasks"]) & set(rb["tasks"])):
        ea, eb = ra["tasks"][task], rb["tasks"][task]
        ids, ca, cb = paired_correctness(read_records(a / ea["samples_file"]), read_records(b / eb["samples_file"]))
        test = mcnemar(ca, cb)
        flips[task] = [(i, "fixed" if y else "broke") for i, x, y in zip(ids, ca, cb) if x != y]
        warn = "" if ea.get("version") == eb.get("version") else f" (task versions differ: {ea.get('version')} vs {eb.get('version')})"
        rows.append([task + warn, test.n, f"{100 * sum(ca) / max(1, test.n):.1f}", f"{100 * sum(cb) / max(1, test.n):.1f}",
                     f"{100 * test.delta:+.1f}", test.better, test.worse, f"{test.p_two_sided:.3g}"])
    return rows, flips


def cmd_compare(a: Any) -> int:
    rows, flips = compare(a.run_a, a.run_b)
    print(tabulate(rows, headers=["task", "paired n", "A acc", "B acc", "delta", "fixed", "broke", "p (McNemar)"],
                   tablefmt="github", disable_numparse=True))
    for task, items in flips.items():
        if items:
            shown = ", ".join(f"{i} ({k})" for i, k in items[: a.show])
            more = f" ... and {len(items) - a.show} more" if len(items) > a.show else ""
            print(f"\n{task}: {len(items)} flipped: {shown}{more}")
    return 0


def add_cli(sub: Any) -> None:
    p = sub.add_parser("compare", help="per-task deltas between two runs, with a paired test")
    p.add_argument("run_a", type=Path)
    p.add_argument("run_b", type=Path)
    p.add_argument("--show", type=int, default=20, help="flipped samples to list per task")
    p.set_defaults(handler=cmd_compare)
