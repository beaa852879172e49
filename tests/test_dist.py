"""Sharding under real torchrun + gloo: world-size invariance, crash + resume at another world size."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.records import read_records
from tests.procs import alive, children

REPO = Path(__file__).resolve().parents[1]
N = 48


def cmd(out: Path, nproc: int, n: int = N, sleep: float = 0.0, model: str = "tests.toy:HashAdapter",
        args: str = "") -> list[str]:
    launch = [sys.executable, "-m", "harness"] if nproc == 1 else [
        sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", "-m", "harness"]
    return launch + ["run", "--model", model, "--model-args", f"batch_size=3,sleep={sleep}" + (f",{args}" if args else ""),
                     "--tasks", "tests.toy:ToyTask", "--task-args", f"toy:n={n}",
                     "--output-dir", str(out), "--no-progress", "--max-error-rate", "1"]


def run(args: list[str], **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=240, check=False, **kw)


def samples_bytes(out: Path) -> bytes:
    return (out / "samples" / "toy.jsonl").read_bytes()


def metrics(out: Path) -> dict:
    import json

    return json.loads((out / "results.json").read_text())["tasks"]["toy"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "out"
    p = run(cmd(out, 1))
    assert p.returncode == 0, p.stderr
    return out


def test_two_ranks_give_byte_identical_samples_and_metrics(reference, tmp_path):
    out = tmp_path / "out"
    p = run(cmd(out, 2))
    assert p.returncode == 0, p.stderr
    assert samples_bytes(out) == samples_bytes(reference)
    m1, m2 = metrics(reference), metrics(out)
    assert m1["metrics"] == m2["metrics"] and m1["n_unparsed"] == m2["n_unparsed"]
    assert not list((out / "samples").glob("toy.rank*.jsonl"))  # merged, rank files gone


def _start_and_kill(args: list[str], out: Path, min_lines: int) -> None:
    """Start a run, wait until `min_lines` samples are on disk, then kill -9 the launcher alone (torchrun,
    or the single process), as the OOM killer or `kill -9 <pid>` would: its workers (each in a session of
    its own under torchrun) must die with it, not finish the run behind the rerun's back."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            lines = sum(len(read_records(p)) for p in (out / "samples").glob("toy.rank*.jsonl"))
            if lines >= min_lines:
                break
            time.sleep(0.05)
        workers = children(proc.pid)
        proc.kill()
        proc.wait()
        assert proc.returncode != 0, "the run finished before it could be killed"
        deadline = time.monotonic() + 2  # a worker left running would still be inferring for seconds
        while any(alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [p for p in workers if alive(p)], "workers outlived their launcher"
    finally:
        for p in [proc.pid, *workers]:
            if alive(p):
                os.kill(p, signal.SIGKILL)


@pytest.mark.parametrize("first, second", [(1, 1), (2, 1), (1, 2)])
def test_kill_9_then_rerun_at_any_world_size_matches_an_uninterrupted_run(reference, tmp_path, first, second):
    out = tmp_path / "out"
    _start_and_kill(cmd(out, first, sleep=0.2), out, min_lines=10)
    done_before = sum(len(read_records(p)) for p in (out / "samples").glob("toy.rank*.jsonl"))
    assert 0 < done_before < N
    p = run(cmd(out, second))
    assert p.returncode == 0, p.stderr
    assert samples_bytes(out) == samples_bytes(reference)  # nothing lost, nothing duplicated
    assert metrics(out)["metrics"] == metrics(reference)["metrics"]


def test_transient_failures_and_model_usage_at_two_ranks_are_as_at_one_and_a_rerun_after_recovery_is_a_clean_run(
        tmp_path):
    """tests.toy:FlakyAdapter fails 1 sample in 5 on its endpoint (transient) while down=1, and reports
    every request's cost: the merged file, the transient marks and model_usage (summed from the
    records, not counted by rank 0) do not depend on the world size, nor on the failures before."""
    flaky = "tests.toy:FlakyAdapter"
    one, two, clean = tmp_path / "one", tmp_path / "two", tmp_path / "clean"
    for out, nproc, down in ((one, 1, 1), (two, 2, 1), (clean, 1, 0)):
        p = run(cmd(out, nproc, model=flaky, args=f"down={down}"))
        assert p.returncode == 0, p.stderr
    assert samples_bytes(two) == samples_bytes(one)
    usage = metrics(two)["model_usage"]
    assert usage == metrics(one)["model_usage"] and metrics(two)["n_errors_transient"] == 10
    assert usage["requests"] == N + 10 * 4 and usage["failed_transient"] == 10 and "ranks_counted" not in usage
    p = run(cmd(two, 2, model=flaky, args="down=0"))  # the endpoint answers again: those ten are computed
    assert p.returncode == 0, p.stderr
    assert samples_bytes(two) == samples_bytes(clean)
    assert metrics(two)["model_usage"] == metrics(clean)["model_usage"] and metrics(two)["n_errors_transient"] == 0
    assert metrics(two)["metrics"] == metrics(clean)["metrics"]


def test_ranks_with_different_settings_are_refused(tmp_path):
    p = run(cmd(tmp_path / "out", 2, model="tests.toy:RankSkewAdapter"))
    assert p.returncode != 0
    assert "different settings" in p.stderr and "model" in p.stderr


def test_evaluate_inside_an_existing_process_group_reuses_the_model(tmp_path):
    p = run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
             "-m", "tests.dist_inprocess", str(tmp_path)])
    assert p.returncode == 0, p.stderr
    calls = sorted(int((tmp_path / f"calls.rank{r}").read_text()) for r in range(2))
    assert calls == [16, 18]  # 17 samples x 2 evaluations split 9/8 per rank, no second model copy
    assert (tmp_path / "step100.acc").read_text() == (tmp_path / "step200.acc").read_text()
