"""`harness report RUN_DIR ...`: leaderboards as a pure function of result files.

Rows are runs (or published references), columns are benchmarks and their official sub-scores.
Formats: markdown, csv, latex (booktabs, best per column in bold), json, parquet of all
per-sample records, and a self-contained HTML page. Nothing is recomputed; no model is loaded.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from tabulate import tabulate

from ..errors import DataError, WriteError
from ..paths import package_dir
from ..records import atomic_write_text, iter_records
from ..results import PERCENT, Footnotes, format_metric, load_results, metric_at, protocol_notes

PUBLISHED = package_dir("harness.published") / "published.json"  # results/published.json in the repository
# (task, metric path, column label) per benchmark; the first is the headline.
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "mvbench": [("accuracy", "MVBench")],
    "videomme": [("accuracy", "Video-MME"), ("with_subtitles.accuracy", "VMME w/ subs"),
                 ("by_duration.short.accuracy", "VMME short"), ("by_duration.medium.accuracy", "VMME medium"),
                 ("by_duration.long.accuracy", "VMME long")],
    "egoschema": [("accuracy", "EgoSchema")],
    "perception_test": [("accuracy", "PerceptionTest")],
    "activitynet_qa": [("accuracy", "ANet-QA acc"), ("score", "ANet-QA score")],
    "msvd_qa": [("accuracy", "MSVD-QA acc"), ("score", "MSVD-QA score")],
    "videochatgpt": [("correctness", "VCG CI"), ("detail", "VCG DO"), ("context", "VCG CU"),
                     ("temporal", "VCG TU"), ("consistency", "VCG CO")],
}
def cell(task: dict[str, Any] | None, path: str, with_ci: bool) -> dict[str, Any]:
    """One leaderboard cell: value (+CI), or why there is none (missing / submitted)."""
    if task is None:
        return {"value": None, "text": "missing"}
    if task.get("server_scored"):
        return {"value": None, "text": f"submitted ({task.get('submission')})"}
    m = task.get("metrics") or {}
    v = metric_at(m, path)
    if v is None:
        return {"value": None, "text": "–"}
    pct = path.split(".")[-1] in PERCENT
    text = format_metric(path, v, metric_at(m, path + "_ci") if with_ci else None, ci_style="half")
    if task.get("judge"):
        n = max(1, task.get("n_samples") or 1)
        text += f" (judge {judge_label(task['judge'])}, {100 * (task.get('n_unscored') or 0) / n:.0f}% unscored)"
    return {"value": float(v) * (100 if pct else 1), "text": text, "notes": protocol_notes(task)}


def judge_label(judge: dict[str, Any]) -> str:
    """The judge as the endpoint returned it; `asked -> returned` when it answered as another model."""
    asked = judge.get("model")
    returned = (judge.get("stats") or {}).get("models_returned") or []
    if not returned or returned == [asked]:
        return str(asked)
    return f"{asked} -> {', '.join(returned)}"


def leaderboard(run_dirs: list[Path], with_ci: bool = True, published: bool = False) -> dict[str, Any]:
    runs = [(d, load_results(d)) for d in run_dirs]
    tasks = [t for t in COLUMNS if any(t in r["tasks"] for _, r in runs)] or list(COLUMNS)
    versions: dict[str, set[str]] = {}
    for _, r in runs:
        for t, entry in r["tasks"].items():
            versions.setdefault(t, set()).add(str(entry.get("version")))
    headers = ["run"] + [label for t in tasks for _, label in COLUMNS[t]]
    rows = []
    for d, r in runs:
        name = f"{r['model']['name']} ({d.name})"
        rows.append({"run": name, "cells": [cell(r["tasks"].get(t), p, with_ci) for t in tasks for p, _ in COLUMNS[t]]})
    if published and PUBLISHED.exists():
        user_rows = list(rows)
        for ref in json.loads(PUBLISHED.read_text())["models"]:
            cells = []
            for t in tasks:
                for p, _ in COLUMNS[t]:
                    v = (ref.get("scores") or {}).get(t, {}).get(p)
                    cells.append({"value": v, "text": "–" if v is None else f"{v:g}"})
            rows.append({"run": f"{ref['name']} [published: {ref['source']}]", "cells": cells})
            for u in user_rows:  # deltas: a run minus the published number, where both exist
                deltas = [{"value": None, "text": "–"} if a["value"] is None or b["value"] is None else
                          {"value": a["value"] - b["value"], "text": f"{a['value'] - b['value']:+.1f}"}
                          for a, b in zip(u["cells"], cells)]
                rows.append({"run": f"Δ {u['run']} vs {ref['name']}", "cells": deltas, "delta": True})
    mixed = sorted(t for t, v in versions.items() if len(v) > 1)
    return {"headers": headers, "rows": rows, "mixed_versions": mixed}


def to_markdown(board: dict[str, Any]) -> str:
    notes = Footnotes()
    table = tabulate([[r["run"]] + [c["text"] + notes.mark(c.get("notes") or []) for c in r["cells"]]
                      for r in board["rows"]], headers=board["headers"], tablefmt="github")
    note = "".join(f"\n\n**Warning:** runs used different versions of `{t}`; its column mixes protocols."
                   for t in board["mixed_versions"])
    return table + note + ("\n" + notes.render() if notes.texts else "") + "\n"


def to_csv(board: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(board["headers"])
    for r in board["rows"]:
        w.writerow([r["run"]] + ["" if c["value"] is None else round(c["value"], 4) for c in r["cells"]])
    return buf.getvalue()


def to_latex(board: dict[str, Any]) -> str:
    def esc(s: str) -> str:
        for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#")):
            s = s.replace(a, b)
        return s

    n = len(board["headers"]) - 1
    best = [max((r["cells"][i]["value"] for r in board["rows"] if r["cells"][i]["value"] is not None
                 and not r.get("delta")), default=None) for i in range(n)]
    lines = [r"\begin{tabular}{l" + "r" * n + "}", r"\toprule", " & ".join(esc(h) for h in board["headers"]) + r" \\",
             r"\midrule"]
    notes = Footnotes()
    for r in board["rows"]:
        cells = []
        for i, c in enumerate(r["cells"]):
            text = "--" if c["value"] is None else f"{c['value']:.1f}"
            bold = c["value"] is not None and c["value"] == best[i] and not r.get("delta")
            mark = notes.mark(c.get("notes") or []).strip()
            cells.append((rf"\textbf{{{text}}}" if bold else text) + (rf"\textsuperscript{{{mark[1:-1]}}}" if mark else ""))
        lines.append(" & ".join([esc(r["run"])] + cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    lines += [rf"\par{{\footnotesize\textsuperscript{{{i}}} {esc(t)}}}" for i, t in enumerate(notes.texts, 1)]
    return "\n".join(lines) + "\n"


def to_parquet(run_dirs: list[Path], out: Path) -> None:
    import pandas as pd

    rows = []
    for d in run_dirs:
        res = load_results(d)
        for task, entry in res["tasks"].items():
            for rec in iter_records(d / entry["samples_file"]):
                rows.append({"run": d.name, "model": res["model"]["name"], "task": task, "id": rec.get("id"),
                             "subset": rec.get("subset"), "state": rec.get("state"), "correct": rec.get("correct"),
                             "score": json.dumps(rec.get("score")), "prediction": rec.get("prediction"),
                             "parsed": rec.get("parsed"), "target": rec.get("target"), "error": rec.get("error"),
                             "meta": json.dumps(rec.get("meta"))})
    pd.DataFrame(rows).to_parquet(out, index=False)


def cmd_report(a: Any) -> int:
    if not a.runs:
        raise DataError("no run directories given")
    board = leaderboard(a.runs, with_ci=not a.no_ci, published=a.published)
    out = {"md": to_markdown, "csv": to_csv, "latex": to_latex, "json": lambda b: json.dumps(b, indent=2) + "\n"}
    if a.format == "parquet":
        if not a.output:
            raise DataError("--format parquet needs --output FILE")
        try:
            to_parquet(a.runs, a.output)
        except OSError as e:
            raise WriteError(a.output, e) from None
        print(f"wrote {a.output}")
        return 0
    if a.format == "html":
        from .html import render_html

        text = render_html(a.runs, to_markdown(board))
    else:
        text = out[a.format](board)
    if a.output:
        atomic_write_text(a.output, text)
        print(f"wrote {a.output}")
    else:
        print(text, end="")
    return 0


def add_cli(sub: Any) -> None:
    p = sub.add_parser("report", help="leaderboard tables from run directories (no model)")
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--format", choices=["md", "csv", "latex", "json", "parquet", "html"], default="md")
    p.add_argument("--output", type=Path)
    p.add_argument("--published", action="store_true", help="add published reference rows (results/published.json)")
    p.add_argument("--no-ci", action="store_true", help="values without confidence intervals")
    p.set_defaults(handler=cmd_report)
