"""Scale: a 100,000-sample synthetic task through the whole pipeline (plan, shard, infer, merge,
score, results) with a constant adapter, vs 1,000 samples: per-sample overhead and peak RSS.

    python bench/bench_scale.py [--sizes 1000,100000]

Each size runs in a fresh subprocess so peak RSS (ru_maxrss) is that run's own.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from harness.config import RunConfig
from harness.runner import evaluate
from tests.toy import HashAdapter
n, out = int(sys.argv[1]), Path(sys.argv[2])
t0 = time.perf_counter()
res = evaluate(HashAdapter(batch_size=8), ["tests.toy:ToyTask"], RunConfig(output_dir=out, task_options={"toy": {"n": n}}, progress=False))
first = time.perf_counter() - t0
t1 = time.perf_counter()
evaluate(HashAdapter(batch_size=8), ["tests.toy:ToyTask"], RunConfig(output_dir=out, task_options={"toy": {"n": n}}, progress=False))
resume = time.perf_counter() - t1
print(json.dumps({"n": n, "seconds": first, "resume_seconds": resume,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "accuracy": res["tasks"]["toy"]["metrics"]["accuracy"]}))
"""


def measure(n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        p = subprocess.run([sys.executable, "-c", CHILD, str(n), str(Path(tmp) / "out")], cwd=REPO,
                           capture_output=True, text=True, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,100000")
    sizes = [int(s) for s in ap.parse_args().sizes.split(",")]
    rows = []
    base = None
    for n in sizes:
        m = measure(n)
        base = base or m
        rows.append([n, f"{m['seconds']:.1f}", f"{1000 * m['seconds'] / n:.3f}", f"{1000 * m['resume_seconds'] / n:.3f}",
                     f"{m['rss_mb']:.0f}", f"{m['rss_mb'] / base['rss_mb']:.2f}"])
    table = tabulate(rows, headers=["samples", "run s", "ms/sample", "resume ms/sample", "peak RSS MB", "RSS vs first"],
                     tablefmt="github")
    print(table)
    stamp = f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {platform.python_version()}"
    with open(REPO / "bench" / "RESULTS.md", "a") as f:
        f.write(f"\n## Scale (bench/bench_scale.py) — {stamp}\n\n{table}\n")


if __name__ == "__main__":
    main()
