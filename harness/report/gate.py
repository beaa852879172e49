"""`harness gate`: pass/fail a candidate run against floors and a baseline, robust to noise.

Spec (TOML or JSON), one entry per check:

    [[check]]
    task = "mvbench"
    metric = "accuracy"        # a key of tasks.<task>.metrics; dots reach into breakdowns
    min = 0.40                 # absolute floor (optional)
    max_drop = 0.02            # allowed drop vs the baseline run (optional)
    alpha = 0.05               # a drop past max_drop fails only if the paired test says it is real

A drop fails the gate only when it exceeds `max_drop` AND the exact McNemar test on per-sample
correctness (same samples in both runs) rejects "no worse" at `alpha`; so a retrain that moves a
few samples either way does not flake CI, while a real regression does.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ..errors import ConfigError, DataError
from ..records import read_records
from ..results import load_results, metric_at
from .stats import mcnemar, paired_correctness


@dataclass
class CheckResult:
    name: str
    passed: bool
    value: float | None
    detail: str


def load_spec(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
        spec = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except FileNotFoundError:
        raise ConfigError(f"gate spec not found: {path}") from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"gate spec {path} does not parse: {e}") from None
    checks = spec.get("check") or spec.get("checks") or []
    for i, c in enumerate(checks):
        if "task" not in c or "metric" not in c:
            raise ConfigError(f"gate spec {path}: check {i} needs `task` and `metric`")
    return checks


def metric_value(results: dict[str, Any], task: str, metric: str, where: Path) -> float | None:
    if task not in results["tasks"]:
        raise DataError(f"task {task!r} is not in this run", file=str(where / "results.json"))
    node = metric_at(results["tasks"][task]["metrics"], metric)
    return float(node) if isinstance(node, (int, float)) else None


def run_gate(spec: list[dict[str, Any]], cand_dir: Path, base_dir: Path | None) -> list[CheckResult]:
    cand = load_results(cand_dir)
    base = load_results(base_dir) if base_dir else None
    out = []
    for c in spec:
        task, metric = c["task"], c["metric"]
        name = f"{task}.{metric}"
        value = metric_value(cand, task, metric, cand_dir)
        if value is None:
            out.append(CheckResult(name, False, None, "metric missing from the candidate run"))
            continue
        reasons, passed = [], True
        if "min" in c:
            ok = value >= float(c["min"])
            passed &= ok
            reasons.append(f"{value:.4f} {'>=' if ok else '<'} floor {float(c['min']):.4f}")
        if "max_drop" in c and base is not None:
            bval = metric_value(base, task, metric, base_dir)
            _ids, a, b = paired_correctness(read_records(base_dir / base["tasks"][task]["samples_file"]),
                                           read_records(cand_dir / cand["tasks"][task]["samples_file"]))
            test = mcnemar(a, b)
            drop = (bval or 0.0) - value
            significant = test.p_worse < float(c.get("alpha", 0.05))
            ok = not (drop > float(c["max_drop"]) and significant)
            passed &= ok
            reasons.append(f"baseline {bval:.4f}, drop {drop:+.4f} (allowed {float(c['max_drop']):.4f}); "
                           f"paired on {test.n} samples: {test.worse} got worse, {test.better} better, "
                           f"p={test.p_worse:.4g}{' (significant)' if significant else ''}")
        out.append(CheckResult(name, passed, value, "; ".join(reasons) or "no thresholds"))
    return out


def markdown(results: list[CheckResult]) -> str:
    ok = all(r.passed for r in results)
    lines = [f"## Eval gate: {'PASSED' if ok else 'FAILED'}", "", "| check | result | value | detail |",
             "|---|---|---|---|"]
    for r in results:
        val = "–" if r.value is None else f"{r.value:.4f}"
        lines.append(f"| {r.name} | {'pass' if r.passed else '**FAIL**'} | {val} | {r.detail} |")
    return "\n".join(lines) + "\n"


def junit(results: list[CheckResult]) -> str:
    fails = sum(not r.passed for r in results)
    cases = []
    for r in results:
        body = "" if r.passed else f"<failure message={quoteattr(r.detail)}>{escape(r.detail)}</failure>"
        cases.append(f'  <testcase classname="harness.gate" name={quoteattr(r.name)}>{body}</testcase>')
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<testsuite name="harness-gate" tests="{len(results)}" '
            f'failures="{fails}">\n' + "\n".join(cases) + "\n</testsuite>\n")


def cmd_gate(a: Any) -> int:
    results = run_gate(load_spec(a.spec), a.candidate, a.baseline)
    md = markdown(results)
    print(md)
    if a.summary:
        a.summary.write_text(md)
    if a.junit:
        a.junit.write_text(junit(results))
    return 0 if all(r.passed for r in results) else 1


def add_cli(sub: Any) -> None:
    p = sub.add_parser("gate", help="pass/fail a run against floors and a baseline (paired test)")
    p.add_argument("candidate", type=Path, help="the run to judge (an --output-dir)")
    p.add_argument("--spec", type=Path, required=True, help="gate spec (.toml or .json)")
    p.add_argument("--baseline", type=Path, help="a stored baseline run dir")
    p.add_argument("--summary", type=Path, help="write the markdown summary here (e.g. $GITHUB_STEP_SUMMARY)")
    p.add_argument("--junit", type=Path, help="write a JUnit XML report here")
    p.set_defaults(handler=cmd_gate)
