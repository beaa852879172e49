"""results.json (schema in README.md): written, read back (`load_results`), and the run's markdown table."""

from __future__ import annotations

import datetime as _dt
import json
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from tabulate import tabulate

from . import __version__
from .errors import DataError
from .faultpoints import crash_point
from .records import atomic_write_text

SCHEMA_VERSION = 1
PACKAGES = ("torch", "transformers", "numpy", "decord", "av", "openai", "pandas", "pyarrow", "flash-attn")


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, check=False,
                             text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def build_results(model_info: dict[str, Any], config: dict[str, Any], tasks: dict[str, Any],
                  world_size: int) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION,
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "harness": {"version": __version__, "git_commit": git_commit()},
            "packages": package_versions(), "model": model_info, "config": config,
            "world_size": world_size, "tasks": tasks}


PERCENT = {"accuracy"}  # metrics shown in percent; the rest (0-5 judge scores) as they are


def metric_at(metrics: dict[str, Any], path: str) -> Any:
    """A metric by dotted path, e.g. "by_duration.short.accuracy"; None where absent."""
    node: Any = metrics
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def format_metric(path: str, value: float, ci: list[float] | None = None, ci_style: str = "range") -> str:
    """A metric for a table: accuracies in percent with one decimal, scores with two; the 95% CI as
    " [lo, hi]" (ci_style "range") or " ±half-width" ("half")."""
    pct = path.split(".")[-1] in PERCENT
    scale, digits = (100, 1) if pct else (1, 2)
    text = f"{scale * value:.{digits}f}"
    if ci:
        lo, hi = scale * ci[0], scale * ci[1]
        text += f" [{lo:.{digits}f}, {hi:.{digits}f}]" if ci_style == "range" else f" ±{(hi - lo) / 2:.{digits}f}"
    return text


def headline(task: dict[str, Any]) -> tuple[str, str]:
    """(metric name, formatted value with CI) for one task's results entry."""
    if task.get("server_scored"):
        return "submitted", task.get("submission") or "–"
    m = task.get("metrics") or {}
    for name in ("accuracy", "score", "mean_score"):
        if m.get(name) is not None:
            return name, format_metric(name, m[name], m.get(f"{name}_ci"))
    return "metric", "–"


class Footnotes:
    """Numbered notes for a table: the same text gets the same number."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def mark(self, texts: list[str]) -> str:
        """' [1,2]' for these notes (numbering new ones), '' for none."""
        nums = []
        for text in texts:
            if text not in self.texts:
                self.texts.append(text)
            nums.append(self.texts.index(text) + 1)
        return f" [{','.join(map(str, nums))}]" if nums else ""

    def render(self) -> str:
        return "".join(f"\n[{i}] {t}" for i, t in enumerate(self.texts, 1))


def settings(task: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Further settings a task reports beside its headline one, e.g. Video-MME `with_subtitles`."""
    m = task.get("metrics") or {}
    return [(k, v) for k, v in m.items() if k.startswith("with_") and isinstance(v, dict)]


def protocol_notes(task: dict[str, Any]) -> list[str]:
    """A task entry's deviations from its official protocol, each as one footnote text."""
    return [f"deviation from {task.get('protocol') or 'the official protocol'}: {d}" for d in task.get("deviations") or []]


def markdown_table(results: dict[str, Any]) -> str:
    rows, notes = [], Footnotes()
    for name, t in results["tasks"].items():
        metric, value = headline(t)
        rows.append([name + notes.mark(protocol_notes(t)), t.get("split"), metric, value, t.get("n_samples"),
                     t.get("n_scored"), t.get("n_unparsed"), t.get("n_errors"), t.get("n_unscored")])
        for setting, m in settings(t):  # Video-MME's with-subtitles setting, beside the first
            metric, value = headline({"metrics": m})
            rows.append([f"{name} ({setting.replace('_', ' ')})", t.get("split"), metric, value, m.get("n_samples"),
                         m.get("n_scored"), m.get("n_unparsed"), m.get("n_errors"), m.get("n_unscored")])
    head = ["task", "split", "metric", "value [95% CI]", "n", "scored", "unparsed", "errors", "unscored"]
    model = results["model"]
    title = f"Model `{model['name']}` (fingerprint {model.get('fingerprint')})\n\n"
    protocols = sorted({str(t.get("protocol")) for t in results["tasks"].values() if t.get("protocol")})
    footer = f"\nProtocol: {', '.join(protocols)}" + (" (no deviations)" if not notes.texts else "") if protocols else ""
    return title + tabulate(rows, headers=head, tablefmt="github") + "\n" + footer + notes.render() + ("\n" if footer or notes.texts else "")


def load_results(outdir: Path) -> dict[str, Any]:
    """A run's results.json (`score`, `report`, `gate` and `compare` read runs through this), or a
    DataError naming the file when it is absent, broken or of another schema version."""
    path = outdir / "results.json"
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("no results.json here", file=str(path), hint="pass the --output-dir of a `harness run`") from None
    except json.JSONDecodeError as e:
        raise DataError(f"results.json is not valid JSON ({e.msg} at line {e.lineno})", file=str(path)) from None
    if results.get("schema_version") != SCHEMA_VERSION:
        raise DataError(f"results schema {results.get('schema_version')} is not {SCHEMA_VERSION}", file=str(path),
                        hint="re-run `harness score` with the harness version that wrote it")
    return results


def write_results(outdir: Path, results: dict[str, Any]) -> None:
    crash_point("mid_results")  # the table is new, results.json still the old one (or absent)
    atomic_write_text(outdir / "results.json", json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(outdir / "results.md", markdown_table(results))
