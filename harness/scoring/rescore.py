"""`harness score OUTDIR`: re-score saved predictions. Reads result files only, never a model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import RunConfig
from ..judge import JUDGE_DEVIATION
from ..registry import get_task_class
from ..results import load_results, write_results
from ..runner import TaskRun, make_judge, task_entry, warn_substituted
from ..types import FramePolicy
from .stage import score_file


def rescore(outdir: Path, judge_spec: str | None, max_error_rate: float, max_unscored_rate: float,
            progress: bool = True) -> tuple[dict[str, Any], RunConfig]:
    results = load_results(outdir)
    c = results["config"]
    cfg = RunConfig(output_dir=outdir, judge_spec=judge_spec, max_error_rate=max_error_rate,
                    max_unscored_rate=max_unscored_rate, progress=progress,
                    task_options=c.get("task_options") or {}, splits=c.get("splits") or {},
                    gen_kwargs=c.get("gen_kwargs") or {}, limit=c.get("limit"), seed=c.get("seed", 1234))
    for name, entry in results["tasks"].items():
        task = get_task_class(entry.get("class") or name)(Path(c.get("data_root") or "."), split=entry["split"], options=entry.get("options"))
        judge = make_judge(task, cfg)
        if judge is not None:
            judge.preflight()
        records = score_file(task, outdir / entry["samples_file"], judge, progress)
        warn_substituted(name, judge)
        run = TaskRun(task, [], policy=FramePolicy.parse(entry["frames"]), gen_kwargs=entry.get("gen_kwargs") or {})
        # what the run's inference differed in stays recorded; the judge's are recomputed
        judge_devs = set(judge.config.deviations()) if judge else set()
        run.deviations = [d for d in entry.get("deviations") or [] if not d.startswith(JUDGE_DEVIATION) or d in judge_devs]
        results["tasks"][name] = task_entry(run, records, cfg, judge)
    results["config"]["predict_only"] = False
    write_results(outdir, results)
    return results, cfg
