"""results.json (schema in README.md) and the run's markdown table."""

from __future__ import annotations

import datetime as _dt
import json
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from tabulate import tabulate

from . import __version__
from .faultpoints import crash_point
from .records import atomic_write_text

SCHEMA_VERSION = 1
PACKAGES = ("torch", "transformers", "numpy", "decord", "av", "openai", "pandas", "pyarrow", "flash-attn")


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
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
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "harness": {"version": __version__, "git_commit": git_commit()},
            "packages": package_versions(), "model": model_info, "config": config,
            "world_size": world_size, "tasks": tasks}


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{100 * value:.1f}" if isinstance(value, float) else str(value)


def headline(task: dict[str, Any]) -> tuple[str, str]:
    """(metric name, formatted value with CI) for one task's results entry."""
    if task.get("server_scored"):
        return "submitted", task.get("submission") or "–"
    m = task.get("metrics") or {}
    for name in ("accuracy", "score", "mean_score"):
        if m.get(name) is not None:
            ci = m.get(f"{name}_ci")
            val = f"{100 * m[name]:.1f}" if name == "accuracy" else f"{m[name]:.2f}"
            if ci:
                val += f" [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]" if name == "accuracy" else f" [{ci[0]:.2f}, {ci[1]:.2f}]"
            return name, val
    return "metric", "–"


def markdown_table(results: dict[str, Any]) -> str:
    rows = []
    for name, t in results["tasks"].items():
        metric, value = headline(t)
        rows.append([name, t.get("split"), metric, value, t.get("n_samples"), t.get("n_scored"),
                     t.get("n_unparsed"), t.get("n_errors"), t.get("n_unscored")])
    head = ["task", "split", "metric", "value [95% CI]", "n", "scored", "unparsed", "errors", "unscored"]
    model = results["model"]
    title = f"Model `{model['name']}` (fingerprint {model.get('fingerprint')})\n\n"
    return title + tabulate(rows, headers=head, tablefmt="github") + "\n"


def write_results(outdir: Path, results: dict[str, Any]) -> None:
    crash_point("mid_results")  # the table is new, results.json still the old one (or absent)
    atomic_write_text(outdir / "results.json", json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(outdir / "results.md", markdown_table(results))
