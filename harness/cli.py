"""`harness` command line: run, score, verify/prepare, list (report, gate, compare live beside)."""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .config import RunConfig, parse_kv
from .errors import ConfigError, HarnessError, Terminated, write_hint
from .registry import MODELS, TASKS, get_model_class, get_task_class, parse_task_list
from .types import FramePolicy

EXIT_OK, EXIT_THRESHOLD, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED, EXIT_TERMINATED = 128 + 2, 128 + 15  # as a shell reports SIGINT and SIGTERM
# OSErrors that are the machine's state, not a bug: reported as one message, exit 2
ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR,
                      errno.EISDIR, errno.ENAMETOOLONG, errno.EMFILE, errno.ENFILE}


def _run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="videollama2", help="model adapter (harness list models)")
    p.add_argument("--model-args", "--model_args", default="", help="k=v,... e.g. path=/ckpt,dtype=bf16")
    p.add_argument("--tasks", required=True, help="comma list, e.g. mvbench,videomme")
    p.add_argument("--data-root", type=Path, help="folder holding <task>/ in official layouts; "
                   "without it each task runs on its embedded demo set")
    p.add_argument("--allow-root", action="append", type=Path, default=[], metavar="DIR",
                   help="a folder outside --data-root that its symlinks may lead into (a Hugging Face hub "
                        "cache: the datasets--<org>--<name> folder); repeatable")
    p.add_argument("--output-dir", "--output_path", type=Path, default=Path("runs/latest"))
    p.add_argument("--limit", type=int, help="first N samples of each task")
    p.add_argument("--gen-kwargs", "--gen_kwargs", default="", help="k=v,... e.g. max_new_tokens=32")
    p.add_argument("--frames", help="frame policy: uniform:N | fps:F,min=A,max=B (default: the model's)")
    p.add_argument("--task-args", action="append", default=[],
                   help="TASK:k=v,... e.g. videomme:subtitles=true (repeatable); split=NAME picks a split")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--judge", help="provider=azure|openai,model=NAME,base_url=URL,concurrency=N,...")
    p.add_argument("--predict-only", action="store_true", help="infer only; judge later with `harness score`")
    p.add_argument("--max-error-rate", type=float, default=0.0)
    p.add_argument("--max-unscored-rate", type=float, default=0.0)
    p.add_argument("--decode-workers", type=int, default=4)
    p.add_argument("--dist-timeout", type=float, metavar="SECONDS",
                   help="under torchrun: how long a rank waits for the others to join or answer (default: "
                        "HARNESS_DIST_TIMEOUT, else 600)")
    p.add_argument("--overwrite", action="store_true",
                   help="the output dir may hold another model's results or other tasks: remove them first")
    p.add_argument("--dry-run", action="store_true", help="print the plan (what is done, what is left); load no model")
    p.add_argument("--no-progress", action="store_true")


def _task_args(items: list[str]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    options: dict[str, dict[str, Any]] = {}
    splits: dict[str, str] = {}
    for item in items:
        task, sep, rest = item.partition(":")
        if not sep:
            raise ConfigError(f"bad --task-args {item!r}", hint="use TASK:key=value,...")
        kv = parse_kv(rest, "--task-args")
        if "split" in kv:
            splits[task] = str(kv.pop("split"))
        options.setdefault(task, {}).update(kv)
    return options, splits


def check_task_args(names: list[str], cfg: RunConfig) -> None:
    """--task-args may only name tasks the run includes (by the task's own name: `toy` for tests.toy:ToyTask)."""
    run_names = {get_task_class(n).name for n in names}
    for given in sorted(set(cfg.task_options) | set(cfg.splits)):
        if given not in run_names:
            raise ConfigError(f"--task-args names task {given!r}, which is not in --tasks",
                              hint=f"the tasks of this run: {', '.join(sorted(run_names))}")


def config_from_args(a: argparse.Namespace) -> RunConfig:
    """The run's settings, every one checked (a ConfigError naming the flag), before anything is read."""
    options, splits = _task_args(a.task_args)
    gen = parse_kv(a.gen_kwargs, "--gen-kwargs")
    gen.setdefault("seed", a.seed) if gen.get("do_sample") else None
    return RunConfig(output_dir=a.output_dir, data_root=a.data_root, limit=a.limit, seed=a.seed,
                     gen_kwargs=gen, frames=FramePolicy.parse(a.frames) if a.frames else None,
                     task_options=options, splits=splits, judge_spec=a.judge, predict_only=a.predict_only,
                     max_error_rate=a.max_error_rate, max_unscored_rate=a.max_unscored_rate,
                     decode_workers=a.decode_workers, progress=not a.no_progress, overwrite=a.overwrite,
                     allow_roots=a.allow_root).check()


def threshold_failures(results: dict[str, Any], cfg: RunConfig) -> list[str]:
    """Tasks whose error or unscored share is past the allowed rate."""
    out = []
    for name, t in results["tasks"].items():
        n = max(1, t["n_samples"])
        if t["n_errors"] / n > cfg.max_error_rate:
            out.append(f"{name}: {t['n_errors']}/{t['n_samples']} samples failed (--max-error-rate {cfg.max_error_rate}); "
                       f"see the `error` field in {t['samples_file']}{_model_transient_hint(t)}")
        if not cfg.predict_only and t["n_unscored"] / n > cfg.max_unscored_rate:
            out.append(f"{name}: {t['n_unscored']}/{t['n_samples']} samples unscored "
                       f"(--max-unscored-rate {cfg.max_unscored_rate}){_transient_hint(t)}")
    return out


def _transient_hint(task: dict[str, Any]) -> str:
    """What to do about judgements the endpoint failed: they were not cached, so a rerun asks again."""
    stats = (task.get("judge") or {}).get("stats") or {}
    n = stats.get("unscored_transient", 0)
    return (f"; {n} judgements failed on the judge endpoint and were not cached: rerun `harness score OUTDIR` "
            f"(with the same --judge) when it answers again") if n else ""


def _model_transient_hint(task: dict[str, Any]) -> str:
    """What to do about samples the model's endpoint failed, or that ran out of memory: a rerun
    computes them again."""
    n = task.get("n_errors_transient") or 0
    return (f"; {n} failed on the model endpoint or ran out of memory (marked transient): rerun the same "
            f"`harness run` command when the endpoint answers again (out of memory: with a smaller batch_size), "
            f"it computes only those") if n else ""


def model_notices(results: dict[str, Any]) -> list[str]:
    """Warnings about a model behind an endpoint: it stopped being asked (the circuit breaker), or it
    answered as another model than the one asked for (a snapshot behind an alias)."""
    out = []
    asked = (results.get("model") or {}).get("args", {}).get("model")
    for name, t in results["tasks"].items():
        usage = t.get("model_usage") or {}
        if usage.get("breaker_tripped"):
            out.append(f"{name}: the model endpoint stopped being asked: {usage.get('breaker_reason')}")
        if usage.get("substituted"):
            out.append(f"{name}: the model endpoint answered as {', '.join(usage['substituted'])}, not the "
                       f"requested {asked}; results of different snapshots are not comparable")
    return out


def judge_notices(results: dict[str, Any], failures: list[str]) -> list[str]:
    """Warnings about the judge that hold whatever the thresholds: it stopped asking (the circuit
    breaker), or some judgements failed on the endpoint and a rerun would ask them again (said once:
    not again for a task whose FAILED line says it)."""
    out = []
    for name, t in results["tasks"].items():
        stats = (t.get("judge") or {}).get("stats") or {}
        if stats.get("breaker_tripped"):
            out.append(f"{name}: the judge stopped asking: {stats.get('breaker_reason')}")
        hint = _transient_hint(t)
        if hint and not any(f.startswith(f"{name}:") and f.endswith(hint) for f in failures):
            out.append(f"{name}{hint}")
    return out


def cmd_run(a: argparse.Namespace) -> int:
    from . import dist
    from .demo import CACHE_HINT, cache_dir
    from .model import UnloadedModel
    from .paths import ensure_writable_dir
    from .rundir import run_lock
    from .runner import evaluate, load_task, media_missing, needs_judge, prepare, progress_line

    # Every argument is checked before anything is read, locked or loaded: a mistake is one message, exit 2.
    cfg = config_from_args(a)
    dist.process_group_timeout(a.dist_timeout)
    names = parse_task_list(a.tasks)
    check_task_args(names, cfg)
    model_cls = get_model_class(a.model)  # an unknown name raises the did-you-mean error
    model_args = parse_kv(a.model_args, "--model-args")
    model_cls.check_args(**model_args)
    for name in names:  # each task's generation settings, as the run will use them
        model_cls.check_gen_kwargs({**get_task_class(name).gen_kwargs, **cfg.gen_kwargs})
    runs = [load_task(n, cfg) for n in names]
    if a.dry_run:  # the plan loads no model (the adapter's module may import torch)
        return _print_plan(runs, cfg, model_cls, model_args)
    for run in runs:  # fail fast, before the model loads, when missing videos already exceed the budget
        missing = media_missing(run.samples)
        if missing and len(missing) / max(1, len(run.samples)) > cfg.max_error_rate:
            shown = "\n".join(f"  {sid}: {path}" for sid, path in missing[:20])
            more = f"\n  ... and {len(missing) - 20} more" if len(missing) > 20 else ""
            raise HarnessError(f"{run.task.name}: {len(missing)} of {len(run.samples)} videos are missing:\n{shown}{more}",
                               hint="fix --data-root, or allow them as per-sample errors with --max-error-rate")
    if any(needs_judge(r.task, cfg) for r in runs):  # verdicts are cached there: it must be writable
        ensure_writable_dir(cache_dir() / "judge", "the judge cache", CACHE_HINT)
    ctx = dist.init_from_env(a.dist_timeout)
    with run_lock(cfg.output_dir, ctx):  # a second run into this directory is refused here (exit 2)
        # Plan from the model's description when the adapter can give one without loading the weights;
        # load them only when a sample is left to compute.
        description = model_cls.describe(**model_args)
        model = UnloadedModel(description) if description is not None else model_cls(**model_args)
        prepare(runs, model, cfg, ctx)
        if ctx.is_main:
            for run in runs:
                print(progress_line(run), flush=True)
        if isinstance(model, UnloadedModel):
            if any(r.pending for r in runs):
                model = model_cls(**model_args)
                if model.fingerprint() != description.fingerprint:
                    raise HarnessError(f"model {a.model}: the fingerprint its describe() gives ({description.fingerprint}) "
                                       f"is not the loaded model's ({model.fingerprint()})",
                                       hint="a bug in the adapter's describe(); it must give what the loaded model does")
            elif ctx.is_main:
                print("nothing to compute: the model is not loaded; scoring the saved predictions", flush=True)
        results = evaluate(model, runs, cfg, ctx)
    if results is None:
        return EXIT_OK

    def show() -> None:
        print((cfg.output_dir / "results.md").read_text())
        print(f"results: {cfg.output_dir / 'results.json'}")
        for name, t in results["tasks"].items():
            if t.get("submission"):
                print(f"{name}: submission written to {t['submission']}. {t.get('submission_help') or ''}")

    return report_outcome(results, cfg, show)


def report_outcome(results: dict[str, Any], cfg: RunConfig, show: Callable[[], None]) -> int:
    """Print what a finished run wrote, and return its exit code. results.json is complete by now, so an
    interruption while printing (Ctrl-C, SIGTERM, a closed pipe) only cuts the printing short: the exit
    code stays the run's own (0, or 1 past a threshold)."""
    failures = threshold_failures(results, cfg)
    code = EXIT_THRESHOLD if failures else EXIT_OK
    try:
        show()
    except (KeyboardInterrupt, Terminated, BrokenPipeError) as e:
        if isinstance(e, BrokenPipeError):  # nothing more reaches stdout; nor may the exit-time flush fail
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        with contextlib.suppress(Exception):
            print(f"interrupted while printing; the results are complete: {cfg.output_dir / 'results.json'}",
                  file=sys.stderr)
    for note in model_notices(results) + judge_notices(results, failures):
        with contextlib.suppress(Exception):
            print(f"WARNING {note}", file=sys.stderr)
    for f in failures:
        with contextlib.suppress(Exception):
            print(f"FAILED {f}", file=sys.stderr)
    return code


def _print_plan(runs: list[Any], cfg: RunConfig, model_cls: Any, model_args: dict[str, Any]) -> int:
    import os

    from .model import UnloadedModel
    from .runner import plan_runs, progress_line

    world = int(os.environ.get("WORLD_SIZE", "1"))
    description = model_cls.describe(**model_args)
    if description is not None:
        plan_runs(runs, UnloadedModel(description), cfg)
    for run in runs:
        t = run.task
        n = len(run.samples)
        todo = len(run.pending) if description is not None else n
        per_rank = [len(range(r, todo, world)) for r in range(world)]
        judge_calls = (n if t.scoring == "judge" and not cfg.predict_only else 0)
        frames = run.policy if description is not None else f"{cfg.frames or t.default_frames} (or the model's num_frames)"
        print(f"{t.name} [{t.split}] samples={n} per_rank={per_rank} frames={frames} "
              f"scoring={t.scoring} judge_calls~{judge_calls} root={t.root}")
        print(progress_line(run) if description is not None else
              f"{t.name}: done unknown ({model_cls.name} must be loaded to know its fingerprint), {n} samples")
    return EXIT_OK


def cmd_score(a: argparse.Namespace) -> int:
    from .scoring.rescore import rescore

    results, cfg = rescore(a.output_dir, a.judge, a.max_error_rate, a.max_unscored_rate, not a.no_progress)
    return report_outcome(results, cfg, lambda: print((a.output_dir / "results.md").read_text()))


def cmd_verify(a: argparse.Namespace) -> int:
    from .verify import verify

    cfg = RunConfig(output_dir=Path("."), data_root=a.data_root, limit=a.limit, allow_roots=a.allow_root).check()
    options, splits = _task_args(a.task_args)
    cfg.task_options, cfg.splits = options, splits
    names = parse_task_list(a.tasks)
    check_task_args(names, cfg)
    return EXIT_OK if verify(names, cfg, workers=a.workers) else EXIT_THRESHOLD


def cmd_list(a: argparse.Namespace) -> int:
    table = TASKS if a.what == "tasks" else MODELS
    for name, target in table.items():
        print(f"{name:18s} {target}")
        if a.what == "models":  # the adapter modules import torch lazily: listing stays cheap
            for arg, text in get_model_class(name).model_args.items():
                print(f"    {arg:16s} {text}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description="Evaluate video LLMs on video benchmarks.")
    sub = parser.add_subparsers(dest="command", required=True)
    _run_args(sub.add_parser("run", help="infer + score tasks"))
    s = sub.add_parser("score", help="re-score saved predictions (no model)")
    s.add_argument("output_dir", type=Path)
    s.add_argument("--judge")
    s.add_argument("--max-error-rate", type=float, default=0.0)
    s.add_argument("--max-unscored-rate", type=float, default=0.0)
    s.add_argument("--no-progress", action="store_true")
    for name in ("verify", "prepare"):
        v = sub.add_parser(name, help="check every video a task needs exists and decodes (no model)")
        v.add_argument("--tasks", required=True)
        v.add_argument("--data-root", type=Path)
        v.add_argument("--allow-root", action="append", type=Path, default=[], metavar="DIR")
        v.add_argument("--task-args", action="append", default=[])
        v.add_argument("--limit", type=int)
        v.add_argument("--workers", type=int, default=4)
    ls = sub.add_parser("list", help="list tasks or models")
    ls.add_argument("what", choices=["tasks", "models"])
    # every argument after `train` (its --help too) goes to the training entry: see main()
    sub.add_parser("train", help="train a VideoLLaMA2 model (the official recipe; `harness train --help`)", add_help=False)
    ts = sub.add_parser("trainset", help="write the synthetic training set (official conversation JSON + mp4s)")
    ts.add_argument("out", type=Path)
    ts.add_argument("--videos", type=int, default=3000)
    ts.add_argument("--seed", type=int, default=0)
    _add_extra_commands(sub)
    return parser


def _add_extra_commands(sub: Any) -> None:
    """Commands that live in their own modules (report, gate, compare)."""
    from .report import compare, gate, tables

    for mod in (tables, gate, compare):
        mod.add_cli(sub)


def cmd_train(train_args: list[str]) -> int:
    try:
        from harness.models.videollama2.train import main as train_main
    except ImportError as e:
        raise ConfigError(f"training needs the train extras ({e.name} is missing)",
                          hint='pip install -e ".[train]"') from None

    return train_main([a for a in train_args if a != "--"], prog="harness train")


def cmd_trainset(args: argparse.Namespace) -> int:
    from harness.tasks._trainset import build_trainset

    path = build_trainset(args.out, args.videos, seed=args.seed)
    print(f"wrote {path} ({args.videos} videos)")
    return 0


COMMANDS = {"trainset": cmd_trainset, "run": cmd_run, "score": cmd_score, "verify": cmd_verify, "prepare": cmd_verify, "list": cmd_list}


def _on_sigterm(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM, during the clean-up, kills at once
    raise Terminated


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """SIGTERM raises Terminated in the main thread while a command runs (the handler before is restored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    from .dist import die_with_launcher

    die_with_launcher()  # a torchrun worker dies with its launcher, from its first moment
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"]:  # the training entry parses its own arguments (HfArgumentParser)
        handler, args = cmd_train, argv[1:]
    else:
        args = build_parser().parse_args(argv)
        handler = COMMANDS.get(args.command) or getattr(args, "handler", None)
    try:
        with _sigterm_unwinds():
            return handler(args)
    except HarnessError as e:  # a user mistake: the message and its fix, no traceback
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as e:  # the environment refused (a full or read-only disk) where no WriteError names it
        if e.errno not in ENVIRONMENT_ERRNOS:
            raise
        print(f"error: {e.strerror}{': ' + str(e.filename) if e.filename else ''}\n  hint: {write_hint(e)}",
              file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:  # the stack has unwound: sample files closed, the output directory released
        print("terminated; rerun the same command to resume", file=sys.stderr)
        return EXIT_TERMINATED


if __name__ == "__main__":
    sys.exit(main())
