"""`evaluate()`: load tasks, shard pending samples, infer, merge, score, write results.

    lock the output directory (rank 0; harness.rundir) -> check what it holds (rank 0: another
    model's results or other tasks are refused) -> plan (every rank reads the same files) -> barrier
    -> each rank infers its shard into samples/<task>.rank<R>.jsonl -> rank 0 waits for the files to
    hold every pending key, merges them into samples/<task>.jsonl with the labels loaded now, scores
    (judge outside the process group), writes results.json.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import dist
from .config import RunConfig
from .demo import cache_dir, demo_root
from .errors import DataError, HarnessError
from .faultpoints import crash_point
from .inference import run_shard
from .model import ModelAdapter, UnloadedModel
from .paths import allowed_roots
from .records import index_records, write_records
from .registry import get_task_class
from .results import build_results, write_results
from .rundir import claim, on_main, previous_results, run_lock
from .scoring import score_file, task_metrics
from .task import Task
from .types import FramePolicy, Sample, stable_hash
from .usage import asked_model, task_usage

log = logging.getLogger(__name__)


@dataclass
class TaskRun:
    """A task with its loaded samples, and (once the model is known) keys and policy."""

    task: Task
    samples: list[Sample]
    policy: FramePolicy | None = None
    gen_kwargs: dict[str, Any] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)
    pending: list[tuple[Sample, str]] = field(default_factory=list)
    deviations: list[str] = field(default_factory=list)
    # key -> (target, subset) as loaded now: scoring uses these, not the ones stored with a prediction
    labels: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    planned_for: str | None = None  # the fingerprint keys and pending were computed for
    unreadable: dict[Path, list[int]] = field(default_factory=dict)  # complete lines with no readable record
    # where the copies of the records that failed on the model's endpoint lie (their samples are
    # pending again): superseded, the merge never takes one of them
    redo: set[tuple[Path, int, int]] = field(default_factory=set)
    # results.json's model_usage when the records carry no `usage` (`harness score` of an older run's files)
    model_usage: dict[str, Any] | None = None


def build_task(name: str, cfg: RunConfig) -> Task:
    cls = get_task_class(name)  # a registry name or module:Class; settings are keyed by cls.name
    root = cfg.data_root / cls.name if cfg.data_root else demo_root(cls)
    return cls(root, split=cfg.splits.get(cls.name), options=cfg.task_options.get(cls.name))


def load_task(name: str, cfg: RunConfig) -> TaskRun:
    task = build_task(name, cfg)
    with allowed_roots(cfg.allow_roots):  # besides the task's own folder (its real path)
        samples = task.load()
    if not samples:  # the loaders name an empty annotation file; this covers any other way to load nothing
        raise DataError(f"task {task.name} loaded no samples from {task.root}",
                        hint="point --data-root at the folder holding the benchmark as officially distributed")
    return TaskRun(task, samples[: cfg.limit] if cfg.limit else samples)


def media_missing(samples: list[Sample]) -> list[tuple[str, str]]:
    """(sample id, path) of every sample whose video file / frame folder does not exist."""
    return [(s.id, s.media.path) for s in samples
            if s.media is not None and not s.error and not os.path.exists(s.media.path)]


def sample_key(model_fp: str, run: TaskRun, sample: Sample, oracle: bool = False) -> str:
    """Resume key: everything that determines this sample's prediction, and nothing else. The label
    is not in it (a corrected label is re-scored, not re-inferred), except for a test adapter that is
    handed the label (`needs_oracle`): its prediction depends on it. The whole media reference (clip
    bounds, a folder's fps) and `meta` are: tasks build prompts from meta (Video-MME's subtitle file,
    Video-ChatGPT's second question), and a corrected clip is another input."""
    t = run.task
    key = {"model": model_fp, "task": t.name, "version": t.version, "split": t.split,
           "options": t.options, "id": sample.id, "frames": str(run.policy),
           "prompt": t.template_hash() if t.prompt_file else None, "gen": run.gen_kwargs,
           "sample": stable_hash([sample.question, sample.options, sample.media and dataclasses.asdict(sample.media),
                                  sample.meta])}
    if oracle:
        key["answer"] = sample.answer
    return stable_hash(key)


def _paths(outdir: Path, name: str) -> tuple[Path, list[Path]]:
    merged = outdir / "samples" / f"{name}.jsonl"
    return merged, sorted(merged.parent.glob(f"{name}.rank*.jsonl"))


Location = tuple[Path, int, int]  # a record's file, byte offset and length


def _existing(outdir: Path, name: str, unreadable: dict[Path, list[int]] | None = None,
              transient: dict[str, list[Location]] | None = None,
              skip: frozenset[Location] | set[Location] = frozenset()) -> dict[str, Location]:
    """key -> where its finished record lies (merged file first, then rank files). Only
    locations are held, so a 100k-sample task costs megabytes here, not gigabytes. The first copy of
    a key wins, except that a record which failed on the model's endpoint gives way to any later
    copy. For each key whose chosen copy is such a record, `transient` gets the locations of all its
    copies (each failed so: a final copy would have won). Copies at a location in `skip` are not
    there: a run passes the copies it planned to compute again, so only its own new copy counts."""
    merged, rank_files = _paths(outdir, name)
    found: dict[str, Location] = {}
    failed: dict[str, list[Location]] = {}  # keys whose every copy so far failed on the endpoint
    for path in [merged, *rank_files]:
        bad: list[int] = []
        for key, offset, length, again in index_records(path, bad):
            where = (path, offset, length)
            if where in skip:
                continue
            if key not in found or key in failed:
                found[key] = where
                if again:
                    failed.setdefault(key, []).append(where)
                else:
                    failed.pop(key, None)
        if bad and unreadable is not None:
            unreadable[path] = bad
    if transient is not None:
        transient.update(failed)
    return found


def _merged_lines(found: dict[str, tuple[Path, int, int]], keys: list[str],
                  labels: dict[str, tuple[Any, Any]] | None = None,
                  relabelled: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """The records of `keys` in order; with `labels`, each gets the target and subset loaded now
    (the ids of records whose stored ones differed are appended to `relabelled`)."""
    handles: dict[Path, Any] = {}
    try:
        for k in keys:
            path, offset, length = found[k]
            f = handles.get(path) or handles.setdefault(path, open(path, "rb"))  # noqa: SIM115 - closed below
            f.seek(offset)
            rec = json.loads(f.read(length))
            if labels is not None and k in labels:
                target, subset = labels[k]
                if (rec.get("target"), rec.get("subset")) != (target, subset) and relabelled is not None:
                    relabelled.append(rec.get("id"))
                rec["target"], rec["subset"] = target, subset
            yield rec
    finally:
        for f in handles.values():
            f.close()


def plan_runs(runs: list[TaskRun], model: ModelAdapter, cfg: RunConfig) -> None:
    """Keys, labels and pending samples of each run, from the files in the output directory (no
    collective: `--dry-run` uses it as it is)."""
    fp = model.fingerprint()
    model_policy = model.frame_policy()
    for run in runs:
        run.policy = cfg.frames or model_policy or run.task.default_frames
        run.gen_kwargs = {**run.task.gen_kwargs, **cfg.gen_kwargs}
        run.deviations = deviations(run, model, model_policy)
        run.keys = [sample_key(fp, run, s, model.needs_oracle) for s in run.samples]
        run.labels = {k: (s.answer, s.subset) for s, k in zip(run.samples, run.keys)}
        run.unreadable = {}
        again: dict[str, list[Location]] = {}  # failed on the model's endpoint last time: computed again
        done = _existing(cfg.output_dir, run.task.name, run.unreadable, again)
        run.pending = [(s, k) for s, k in zip(run.samples, run.keys) if k not in done or k in again]
        run.redo = {where for k in run.keys if k in again for where in again[k]}
        run.planned_for = fp


def plan(runs: list[TaskRun], model: ModelAdapter, cfg: RunConfig, ctx: dist.DistContext) -> None:
    plan_runs(runs, model, cfg)
    if ctx.is_main:
        for run in runs:
            for path, lines in run.unreadable.items():
                shown = ", ".join(map(str, lines[:10])) + (f" and {len(lines) - 10} more" if len(lines) > 10 else "")
                log.warning("%s: line(s) %s hold no readable record; their samples are computed again", path, shown)
    # Every rank must see the same pending lists before anyone appends to a rank file.
    dist.barrier(ctx)


def prepare(runs: list[TaskRun], model: ModelAdapter, cfg: RunConfig, ctx: dist.DistContext) -> None:
    """Before any inference, with the output directory locked: every rank checks it was started with
    the same settings; rank 0 checks what the directory holds (harness.rundir.claim: another model's
    results or other tasks are refused unless cfg.overwrite) and every rank learns the outcome; then
    every rank plans. Nothing to do when the runs are planned for this model already (`harness run`
    prepares with the model's description, before it decides whether to load the weights)."""
    fp = model.fingerprint()
    if runs and all(r.planned_for == fp for r in runs):
        return
    dist.check_same_settings({"model": fp, "tasks": [r.task.name for r in runs],
                              "n": [len(r.samples) for r in runs], "config": cfg.public()}, ctx)
    on_main(lambda: claim(cfg.output_dir, fp, model.name, [r.task.name for r in runs], cfg.overwrite), ctx)
    plan(runs, model, cfg, ctx)


def progress_line(run: TaskRun) -> str:
    """"<task>: N of M done, K to compute" (after planning)."""
    n, k = len(run.keys), len(run.pending)
    return f"{run.task.name}: {n - k} of {n} done, {k} to compute"


def deviations(run: TaskRun, model: ModelAdapter, model_policy: FramePolicy | None) -> list[str]:
    """Everything that makes this task's run differ from its official protocol, in words: the
    task's options, the model's settings, the frames and the generation settings (the judge's are
    added when it is built)."""
    t = run.task
    out = [*t.deviations(), *model.deviations()]
    if model_policy is not None and run.policy != model_policy:
        out.append(f"frames {run.policy} (the model's own: {model_policy})")
    changed = {k: v for k, v in run.gen_kwargs.items() if t.gen_kwargs.get(k) != v}
    if changed:
        official = ", ".join(f"{k}={v}" for k, v in t.gen_kwargs.items())
        out.append("generation " + ", ".join(f"{k}={v}" for k, v in changed.items()) + f" (official: {official})")
    return out


def _wait_and_merge(run: TaskRun, cfg: RunConfig) -> Path:
    """Rank 0: wait (polling files, no collective) until every key is on disk, then merge, each
    record with the label loaded now."""
    name = run.task.name
    deadline = time.monotonic() + cfg.merge_timeout
    while True:
        found = _existing(cfg.output_dir, name, skip=run.redo)  # a key computed again: only its new copy
        missing = [k for k in run.keys if k not in found]
        if not missing:
            break
        if time.monotonic() > deadline:
            raise HarnessError(f"{name}: {len(missing)} samples never arrived from the other ranks",
                               hint="a rank died; rerun the same command to finish only the missing samples")
        time.sleep(1.0)
    merged, rank_files = _paths(cfg.output_dir, name)
    relabelled: list[str] = []
    write_records(merged, _crash_midway(_merged_lines(found, run.keys, run.labels, relabelled), "mid_merge",
                                        len(run.keys)))
    for p in rank_files:  # safe: everything they held that is still wanted is in the merged file
        p.unlink(missing_ok=True)
    if relabelled:
        more = f" and {len(relabelled) - 5} more" if len(relabelled) > 5 else ""
        log.warning("%s: the label of %d sample(s) changed since their prediction was made (%s%s): scored with "
                    "the labels loaded now, nothing recomputed", name, len(relabelled), ", ".join(relabelled[:5]), more)
    return merged


def _crash_midway(records: Iterator[dict[str, Any]], point: str, n: int) -> Iterator[dict[str, Any]]:
    for i, rec in enumerate(records):
        if i == n // 2:
            crash_point(point)
        yield rec


def needs_judge(task: Task, cfg: RunConfig) -> bool:
    return task.scoring == "judge" and not task.server_scored and not cfg.predict_only


def make_judge(task: Task, cfg: RunConfig) -> Any:
    if not needs_judge(task, cfg):
        return None
    from .judge import Judge, JudgeConfig

    return Judge(JudgeConfig.resolve(task.judge_default, cfg.judge_spec), cache_dir() / "judge")


def warn_substituted(task: str, judge: Any) -> None:
    if judge is not None and judge.substituted():
        log.warning("%s: the judge endpoint answered as %s, not the requested %s; scores from different "
                    "judge snapshots are not comparable", task, ", ".join(judge.substituted()), judge.config.model)


def task_entry(run: TaskRun, records: list[dict[str, Any]], cfg: RunConfig, judge: Any,
               asked: str | None = None) -> dict[str, Any]:
    """The task's results.json entry. `model_usage` is summed from the records (harness.usage), so it
    is the same after a resume and at any world size; `asked`: the model name the adapter asked its
    endpoint for (its `model` arg), against which the models it answered as are compared."""
    t = run.task
    usage = task_usage(records, asked)
    submission = None
    if t.server_scored:
        path = t.write_submission(records, cfg.output_dir / "submissions")
        submission = str(path) if path else None
    devs = run.deviations + (judge.config.deviations() if judge else [])
    return {"class": f"{type(t).__module__}:{type(t).__qualname__}", "version": t.version, "split": t.split,
            "scoring": t.scoring, "server_scored": t.server_scored, "protocol": t.protocol, "deviations": devs,
            "options": t.options, "frames": str(run.policy), "prompt_hash": t.template_hash() if t.prompt_file else None,
            "gen_kwargs": run.gen_kwargs, **task_metrics(t, records),
            "n_errors_transient": sum(1 for r in records if r.get("transient")),
            "model_usage": usage if usage is not None else run.model_usage,
            "judge": ({**judge.config.public(), "stats": judge.stats()} if judge else None),
            "submission": submission, "submission_help": t.submission_help or None if t.server_scored else None,
            "samples_file": f"samples/{t.name}.jsonl"}


def model_entry(model: ModelAdapter, cfg: RunConfig) -> dict[str, Any]:
    """results.json `model`. A model left unloaded (nothing to compute) reports the `info` of the run
    that computed its samples (results.json, same fingerprint), else what its description knows."""
    fp = model.fingerprint()
    info = model.info()
    if isinstance(model, UnloadedModel):
        try:
            old = (previous_results(cfg.output_dir) or {}).get("model") or {}
        except HarnessError:
            old = {}
        if old.get("fingerprint") == fp and old.get("info"):
            info = old["info"]
    return {"name": model.name, "args": model.args, "fingerprint": fp, "info": info}


def evaluate(model: ModelAdapter, tasks: list[str | TaskRun], cfg: RunConfig,
             ctx: dist.DistContext | None = None) -> dict[str, Any] | None:
    """Run inference and scoring. Returns results on rank 0, None on the other ranks.

    Holds the output directory (harness.rundir) for the whole run: a second run into it is refused.
    Callable from inside an existing torchrun/DDP job: it reuses the initialised process group
    and the already-loaded model.
    """
    cfg.check()
    ctx = ctx or dist.init_from_env()
    with run_lock(cfg.output_dir, ctx):
        return _evaluate(model, tasks, cfg, ctx)


def _evaluate(model: ModelAdapter, tasks: list[str | TaskRun], cfg: RunConfig,
              ctx: dist.DistContext) -> dict[str, Any] | None:
    runs = [t if isinstance(t, TaskRun) else load_task(t, cfg) for t in tasks]
    judges = {r.task.name: make_judge(r.task, cfg) for r in runs}
    if ctx.is_main:
        for j in judges.values():
            if j is not None:
                j.preflight()  # fail on missing credentials before any inference
    prepare(runs, model, cfg, ctx)
    if isinstance(model, UnloadedModel) and any(r.pending for r in runs):
        raise RuntimeError("samples are pending but the model is not loaded")
    t0 = time.perf_counter()
    model.begin_run()  # an endpoint that failed an earlier evaluate() is asked again
    for run in runs:
        out = cfg.output_dir / "samples" / f"{run.task.name}.rank{ctx.rank}.jsonl"
        # The shard is passed, not named: a local would keep the last task's samples alive
        # through merge and scoring.
        run_shard(run.task, model, dist.shard(run.pending, ctx), run.policy, run.gen_kwargs, out,
                  cfg.decode_workers, cfg.progress and ctx.is_main)
    infer_s = time.perf_counter() - t0
    crash_point("after_infer")
    if not ctx.is_main:
        return None
    entries = {}
    for run in runs:
        run.pending, run.samples = [], []  # inference is done: free them before merging
        run.planned_for = None  # what is left of this TaskRun is not a plan for another evaluate()
        merged = _wait_and_merge(run, cfg)
        records = score_file(run.task, merged, judges[run.task.name], cfg.progress)
        warn_substituted(run.task.name, judges[run.task.name])
        entries[run.task.name] = task_entry(run, records, cfg, judges[run.task.name], asked_model(model.args))
    results = build_results(model_entry(model, cfg), cfg.public(), entries, ctx.world_size)
    results["timing"] = {"inference_seconds": round(infer_s, 3)}
    write_results(cfg.output_dir, results)
    return results
