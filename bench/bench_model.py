"""Tiny VideoLLaMA2 on this CPU: batching speed-up and harness overhead, side by side.

    python bench/bench_model.py [--n 48]

1. Batching: samples/s at batch 1, 4, 8 on the MVBench demo (frames decoded in memory first),
   checking the greedy outputs are identical at every batch size.
2. Overhead: end-to-end `evaluate()` (load annotations, decode in threads, generate, write
   records, merge, score) over the same samples / the pure model time at the same batch size.
"""

from __future__ import annotations

import argparse
import platform
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

REPO = Path(__file__).resolve().parents[1]
SECTION = "## Tiny VideoLLaMA2: batching and harness overhead (bench/bench_model.py)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=48)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = RunConfig(output_dir=Path(tmp) / "warm", limit=args.n, progress=False)
        run = load_task("mvbench", cfg)
        adapter = VideoLLaMA2Adapter(batch_size=1)
        policy = adapter.frame_policy()
        reqs = [Request(s.id, run.task.prompt(s), video.read_frames(s.media, policy), "video", {"max_new_tokens": 16})
                for s in run.samples]
        rows, ref, pure8 = [], None, None
        for bs in (1, 4, 8):
            t0 = time.perf_counter()
            outs = [o for i in range(0, len(reqs), bs) for o in adapter.generate(reqs[i:i + bs])]
            dt = time.perf_counter() - t0
            ref = ref or outs
            rows.append([bs, f"{len(reqs) / dt:.1f}", f"{1000 * dt / len(reqs):.1f}", outs == ref])
            if bs == 8:
                pure8 = dt
        speed = tabulate(rows, headers=["batch", "samples/s", "ms/sample", "same greedy outputs"], tablefmt="github")
        adapter.batch_size = 8
        t0 = time.perf_counter()
        evaluate(adapter, ["mvbench"], RunConfig(output_dir=Path(tmp) / "e2e", limit=args.n, progress=False,
                                                   gen_kwargs={"max_new_tokens": 16}))
        e2e = time.perf_counter() - t0
    ratio = e2e / pure8
    over = tabulate([[len(reqs), f"{e2e:.2f}", f"{pure8:.2f}", f"{ratio:.2f}"]],
                    headers=["samples", "harness run s", "pure model s (batch 8)", "ratio"], tablefmt="github")
    print(speed, "\n\n", over, sep="")
    stamp = f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {platform.processor() or 'cpu'}"
    write_section(SECTION, f"{SECTION} — {stamp}\n\n{speed}\n\n{over}\n")


if __name__ == "__main__":
    main()
