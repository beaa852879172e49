"""Judge throughput: judgements/s at concurrency 1 vs 32 against a local OpenAI-compatible
server that takes 100 ms per request, through the real openai client; then a rerun (cache).

    python bench/bench_judge.py
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tabulate import tabulate

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.judge import Judge, JudgeConfig, JudgeItem  # noqa: E402
from tests.judge_server import JudgeServer  # noqa: E402


def serve(queue: "multiprocessing.Queue[Any]", counter: "multiprocessing.Value") -> None:
    """The server runs in its own process: sharing the client's GIL would cap the measurement."""
    with JudgeServer(latency=0.1) as server:
        queue.put(server.url)
        while True:
            time.sleep(0.05)
            counter.value = server.requests


class RemoteServer:
    def __enter__(self) -> "RemoteServer":
        self.queue: Any = multiprocessing.Queue()
        self.counter: Any = multiprocessing.Value("i", 0)
        self.proc = multiprocessing.Process(target=serve, args=(self.queue, self.counter), daemon=True)
        self.proc.start()
        self.url = self.queue.get(timeout=30)
        return self

    @property
    def requests(self) -> int:
        time.sleep(0.2)  # let the counter catch up
        return int(self.counter.value)

    def __exit__(self, *exc: Any) -> None:
        self.proc.terminate()


def main() -> None:
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    rows = []
    with RemoteServer() as server, tempfile.TemporaryDirectory() as tmp:
        for conc, n in ((1, 40), (32, 640)):
            items = [JudgeItem("qa_yes_no_v1.txt", {"question": f"c{conc} q{i}", "answer": "a", "prediction": "a"})
                     for i in range(n)]
            judge = Judge(JudgeConfig(base_url=server.url + "/v1", concurrency=conc, timeout=10), Path(tmp) / f"c{conc}")
            t0 = time.perf_counter()
            verdicts = judge.run(items, progress=False)
            dt = time.perf_counter() - t0
            before = server.requests
            again = Judge(JudgeConfig(base_url=server.url + "/v1", concurrency=conc, timeout=10), Path(tmp) / f"c{conc}")
            again.run(items, progress=False)
            rows.append([conc, n, f"{dt:.2f}", f"{n / dt:.1f}", sum(v.data is not None for v in verdicts),
                         server.requests - before])
    speedup = float(rows[1][3]) / float(rows[0][3])
    table = tabulate(rows, headers=["concurrency", "items", "seconds", "judgements/s", "judged", "rerun requests"],
                     tablefmt="github")
    print(table, f"\n\nspeed-up at 32 vs 1: {speedup:.1f}x")
    with open(REPO / "bench" / "RESULTS.md", "a") as f:
        f.write(f"\n## Judge throughput (bench/bench_judge.py) — {time.strftime('%Y-%m-%d')}, {platform.machine()}\n\n"
                f"Local server with 100 ms latency, real openai client.\n\n{table}\n\nSpeed-up at 32 vs 1: {speedup:.1f}x\n")


if __name__ == "__main__":
    main()
