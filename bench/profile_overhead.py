"""Where the harness-overhead gap of bench_model.py goes: one profiled `evaluate()` of the tiny model.

    python bench/profile_overhead.py [--n 48]

Prints (and writes to RESULTS.md) the wall time of the end-to-end run next to its parts measured
alone on the same samples: decoding every sample's frames serially, and the pure model at the
same batch size. Then the run's cProfile, cumulative time of the harness stages. On a CPU-only
machine decode threads and torch share the same cores, so decode time cannot hide behind model
time the way it does when the model runs on a GPU.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import platform
import pstats
import tempfile
import time
from pathlib import Path

from _results import write_section
from tabulate import tabulate

from harness import video
from harness.config import RunConfig
from harness.models.adapters.videollama2 import VideoLLaMA2Adapter
from harness.runner import evaluate, load_task
from harness.types import Request

SECTION = "## Harness overhead profile (bench/profile_overhead.py)"
# Harness functions whose cumulative time the table shows, in pipeline order.
STAGES = [("runner.py", "load_task", "load annotations"), ("runner.py", "plan", "plan (resume keys)"),
          ("inference.py", "run_shard", "inference, all of it"), ("inference.py", "_prefetch", "waiting on decode threads"),
          ("videollama2.py", "generate", "model.generate"), ("records.py", "write", "append records"),
          ("runner.py", "_wait_and_merge", "merge"), ("scoring/stage.py", "score_file", "score"),
          ("scoring/stage.py", "task_metrics", "aggregate + bootstrap"), ("results.py", "write_results", "write results")]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=48)
    args = ap.parse_args()
    gen = {"max_new_tokens": 16}
    with tempfile.TemporaryDirectory() as tmp:
        cfg = RunConfig(output_dir=Path(tmp) / "warm", limit=args.n, progress=False)
        run = load_task("mvbench", cfg)
        adapter = VideoLLaMA2Adapter(batch_size=8)
        policy = adapter.frame_policy()
        t0 = time.perf_counter()
        frames = [video.read_frames(s.media, policy) for s in run.samples]
        decode_s = time.perf_counter() - t0
        reqs = [Request(s.id, run.task.prompt(s), f, "video", gen) for s, f in zip(run.samples, frames)]
        adapter.generate(reqs[:8])  # warm-up, as bench_model's batch-1 pass warms it
        t0 = time.perf_counter()
        for i in range(0, len(reqs), 8):
            adapter.generate(reqs[i:i + 8])
        model_s = time.perf_counter() - t0
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        evaluate(adapter, ["mvbench"], RunConfig(output_dir=Path(tmp) / "e2e", limit=args.n, progress=False,
                                                   gen_kwargs=gen))
        prof.disable()
        e2e_s = time.perf_counter() - t0
    parts = tabulate([[args.n, f"{e2e_s:.2f}", f"{model_s:.2f}", f"{decode_s:.2f}", f"{e2e_s / model_s:.2f}",
                       f"{(model_s + decode_s) / model_s:.2f}"]],
                     headers=["samples", "harness run s", "pure model s", "serial decode s", "run / model",
                              "(model + decode) / model"], tablefmt="github")
    top = io.StringIO()
    stats = pstats.Stats(prof, stream=top)
    cum: dict[tuple[str, str], float] = {}
    for (file, _, func), (_, _, _, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        for suffix, name, _label in STAGES:
            if func == name and file.endswith(suffix):
                cum[suffix, name] = max(cum.get((suffix, name), 0.0), ct)
    stage_rows = [[label, f"{cum[suffix, name]:.3f}"] for suffix, name, label in STAGES if (suffix, name) in cum]
    stage_table = tabulate(stage_rows, headers=["stage (cProfile, main thread)", "cumulative s"],
                           tablefmt="github")
    stats.sort_stats("tottime").print_stats(12)
    print(parts, "\n\n", stage_table, "\n\n", top.getvalue(), sep="")
    stamp = f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, Python {platform.python_version()}"
    book = sum(cum.get((suffix, name), 0.0) for suffix, name, _ in STAGES
               if name not in ("run_shard", "_prefetch", "generate"))
    why = (f"Bookkeeping (every stage but inference) takes {book:.2f} s of the {e2e_s:.2f} s run "
           f"({100 * book / e2e_s:.0f}%). The rest of the gap is decoding: reading the {args.n} demo clips serially "
           f"costs {decode_s:.2f} s against {model_s:.2f} s of pure model time, and on this 2-core machine the "
           "decode threads and torch's threads compete for the same cores, so decoding adds to the run instead "
           f"of hiding behind it (model.generate takes {cum.get(('videollama2.py', 'generate'), 0.0):.2f} s inside the run, "
           f"{model_s:.2f} s alone). With the model "
           "on a GPU the decode threads use otherwise idle CPU cores. What would close it on this machine is only "
           "cheaper decoding per clip: the bookkeeping is already under a tenth of the run. On a GPU machine, the "
           "model's frame preprocessing (a PIL resize per frame, preprocess_frames in the cProfile) moved from "
           "generate() into the decode threads would overlap too.")
    write_section(SECTION, f"{SECTION} — {stamp}\n\n{parts}\n\n{stage_table}\n\n{why}\n")


if __name__ == "__main__":
    main()
