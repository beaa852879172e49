"""`harness score OUTDIR`: re-score saved predictions. Reads result files only, never a model.

It scores the targets stored in the samples files: the labels of the last `harness run` (which
re-labels every record with the annotation it loads). After correcting an annotation file, rerun the
same `harness run` command instead: nothing is recomputed and, when the adapter can describe itself,
no model is loaded.

A samples file is read strictly first: a missing file, a line that is not a complete JSON record, a
sample twice, or a count that is not the one results.json recorded refuses the whole command (a
DataError naming the file and the line) before anything is judged or rewritten.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import dist
from ..config import RunConfig
from ..errors import DataError
from ..judge import JUDGE_DEVIATION
from ..records import check_records
from ..registry import get_task_class
from ..results import load_results, write_results
from ..rundir import run_lock
from ..runner import TaskRun, make_judge, task_entry, warn_substituted
from ..types import FramePolicy
from ..usage import asked_model
from .stage import score_file


def check_samples(outdir: Path, results: dict[str, Any]) -> None:
    """Every task's samples file is there, intact, and holds the records results.json counted."""
    for name, entry in results["tasks"].items():
        path = outdir / entry["samples_file"]
        n = check_records(path)
        if entry.get("n_samples") is not None and n != entry["n_samples"]:
            raise DataError(f"{name}: the samples file holds {n} records, results.json counted {entry['n_samples']}",
                            file=str(path), hint="restore the file, or rerun the same `harness run` command into this "
                                                 "directory (it recomputes only the missing samples)")


def rescore(outdir: Path, judge_spec: str | None, max_error_rate: float, max_unscored_rate: float,
            progress: bool = True) -> tuple[dict[str, Any], RunConfig]:
    if not (outdir / "results.json").exists():
        load_results(outdir)  # the error naming what is missing, without creating the directory's lock
    with run_lock(outdir, dist.DistContext()):  # no run may write here while the files are re-scored
        return _rescore(outdir, judge_spec, max_error_rate, max_unscored_rate, progress)


def _rescore(outdir: Path, judge_spec: str | None, max_error_rate: float, max_unscored_rate: float,
             progress: bool) -> tuple[dict[str, Any], RunConfig]:
    results = load_results(outdir)
    check_samples(outdir, results)
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
        # what inference cost is summed from the records again (kept as recorded for older records without it)
        run = TaskRun(task, [], policy=FramePolicy.parse(entry["frames"]), gen_kwargs=entry.get("gen_kwargs") or {},
                      model_usage=entry.get("model_usage"))
        # what the run's inference differed in stays recorded; the judge's are recomputed
        judge_devs = set(judge.config.deviations()) if judge else set()
        run.deviations = [d for d in entry.get("deviations") or [] if not d.startswith(JUDGE_DEVIATION) or d in judge_devs]
        results["tasks"][name] = task_entry(run, records, cfg, judge, asked_model((results.get("model") or {}).get("args")))
    results["config"]["predict_only"] = False
    write_results(outdir, results)
    return results, cfg
