"""The scoring stage: reads per-sample records, never the model. Used by `run` and `score`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..faultpoints import crash_point
from ..records import iter_records, write_records
from ..task import Task, sample_from_record
from ..types import SampleRecord, ScoredRecord
from .metrics import state_counts

SCORING_FIELDS = ("parsed", "rule", "correct", "score", "state", "judge")


def score_records(task: Task, records: list[SampleRecord], judge: Any = None,
                  progress: bool = True) -> list[SampleRecord]:
    """Fill the scoring fields of each record in place; judged tasks go through the shared judge."""
    to_judge = []
    for rec in records:
        for f in SCORING_FIELDS:
            rec.pop(f, None)
        if rec.get("error"):
            rec["state"], rec["correct"] = "error", None
        elif task.scoring == "judge" and not task.server_scored:
            parsed = task.parse(sample_from_record(rec), rec.get("prediction") or "")
            rec["parsed"], rec["rule"] = parsed.answer, parsed.rule  # kept for exact-match metrics
            to_judge.append(rec)
        else:
            task.score_record(rec)
    if to_judge:
        if judge is None:  # --predict-only: predictions kept, judging left for `harness score`
            for rec in to_judge:
                rec["state"], rec["correct"] = "unscored", None
                rec["judge"] = {"reason": "not judged (predict-only)"}
        else:
            item_groups = [task.judge_items(rec) for rec in to_judge]
            verdicts = judge.run([it for g in item_groups for it in g], progress=progress)
            i = 0
            for rec, group in zip(to_judge, item_groups):
                task.apply_verdicts(rec, verdicts[i:i + len(group)])
                i += len(group)
    return records


# What aggregation never needs. `options` stay: a submission names the chosen option's text.
SLIM_DROP = ("question", "prediction", "extra_predictions", "frames", "key", "media")
CHUNK = 2_000  # full records held at once while scoring: ~2 KB each, so a few MB


def score_file(task: Task, path: Path, judge: Any = None, progress: bool = True) -> list[ScoredRecord]:
    """Score a samples file in chunks, rewriting it atomically with the scoring fields.

    Returns slim records (no prompt/prediction text) for aggregation: memory stays flat in the
    number of samples instead of holding every full record.
    """
    slim: list[dict[str, Any]] = []

    def scored() -> Iterator[dict[str, Any]]:
        chunk: list[dict[str, Any]] = []
        for rec in iter_records(path):
            chunk.append(rec)
            if len(chunk) >= CHUNK:
                yield from _finish(chunk)
                chunk = []
        yield from _finish(chunk)

    def _finish(chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
        score_records(task, chunk, judge, progress)
        crash_point("mid_score")
        slim.extend({k: v for k, v in r.items() if k not in SLIM_DROP} for r in chunk)
        return chunk

    write_records(path, scored())
    return slim


def task_metrics(task: Task, records: list[ScoredRecord]) -> dict[str, Any]:
    """Counts by state + the task's official metrics (None where nothing is scoreable)."""
    counts = state_counts(records)
    if task.server_scored:
        return {**counts, "metrics": {}}
    return {**counts, "metrics": task.aggregate(records) if records else {}}
