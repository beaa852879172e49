"""Processes (issue 19, items 13 and 14): torchrun workers die with their launcher, also while they
start up; the process group's timeout is minutes and configurable; SIGTERM says how to resume and
exits 143 with the files consistent; an interruption after results.json is written keeps the run's
own exit code. (The crash case of tests/test_dist.py checks that no worker outlives its launcher
killed mid-run.)"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from harness import dist
from harness.cli import main
from harness.errors import ConfigError
from harness.records import read_records
from tests.procs import alive, children, loaded_torch

REPO = Path(__file__).resolve().parents[2]


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", **extra}


def toy(out: Path, n: int, sleep: float, batch: int = 2) -> list[str]:
    return ["run", "--model", "tests.toy:HashAdapter", "--model-args", f"batch_size={batch},sleep={sleep}",
            "--tasks", "tests.toy:ToyTask", "--task-args", f"toy:n={n}", "--output-dir", str(out), "--no-progress"]


# -- item 13 ---------------------------------------------------------------------------------------------

@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_item13_workers_killed_with_their_launcher_during_start_up_die_at_once(tmp_path):
    launcher = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                                 "-m", "harness", *toy(tmp_path / "out", 8, 0.0)], cwd=REPO, env=env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        # start-up: both workers exist and have loaded torch (they are joining the process group)
        while not (len(workers) == 2 and all(loaded_torch(p) for p in workers)):
            assert time.monotonic() < deadline and launcher.poll() is None, "the workers never started"
            workers = children(launcher.pid)
            time.sleep(0.02)
        launcher.kill()  # the launcher alone, as `kill -9 <torchrun>` or the OOM killer would
        launcher.wait()
        deadline = time.monotonic() + 5
        while any(alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        survivors = [p for p in workers if alive(p)]
        assert not survivors, f"workers {survivors} outlived their launcher"
    finally:
        for p in workers:
            if alive(p):
                os.kill(p, signal.SIGKILL)


def test_item13_the_process_group_timeout_is_minutes_and_configurable(monkeypatch):
    monkeypatch.delenv("HARNESS_DIST_TIMEOUT", raising=False)
    assert dist.process_group_timeout() == timedelta(minutes=10)
    monkeypatch.setenv("HARNESS_DIST_TIMEOUT", "90")
    assert dist.process_group_timeout() == timedelta(seconds=90)
    assert dist.process_group_timeout(30) == timedelta(seconds=30)  # --dist-timeout wins
    monkeypatch.setenv("HARNESS_DIST_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="HARNESS_DIST_TIMEOUT"):
        dist.process_group_timeout()


# -- item 14 ---------------------------------------------------------------------------------------------

def test_item14_sigterm_says_how_to_resume_exits_143_and_leaves_consistent_files(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "harness", *toy(out, 40, 0.05)], cwd=REPO, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    rank_file = out / "samples" / "toy.rank0.jsonl"
    deadline = time.monotonic() + 60
    while len(read_records(rank_file)) < 6:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, (proc.returncode, err[-2000:])
    assert "terminated; rerun the same command to resume" in err and "Traceback" not in err, err[-2000:]
    raw = rank_file.read_bytes()
    assert raw.endswith(b"\n") and all(json.loads(line)["key"] for line in raw.splitlines())  # no torn line
    done = len(raw.splitlines())
    assert 6 <= done < 40 and (out / ".harness.lock").read_bytes() == b""  # the lock released cleanly
    rerun = subprocess.run([sys.executable, "-m", "harness", *toy(out, 40, 0.0)], cwd=REPO, env=env(),
                           capture_output=True, text=True, timeout=60, check=False)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert f"toy: {done} of 40 done, {40 - done} to compute" in rerun.stdout
    assert len(read_records(out / "samples" / "toy.jsonl")) == 40


class _InterruptedStdout(io.StringIO):
    """stdout that is interrupted (Ctrl-C) once results.json exists: the run is printing its table."""

    def __init__(self, results: Path):
        super().__init__()
        self.results = results

    def write(self, s: str) -> int:
        if self.results.exists():
            raise KeyboardInterrupt
        return super().write(s)


@pytest.mark.parametrize("rate, code", [("1", 0), ("0", 1)])
def test_item14_an_interruption_after_the_results_are_written_keeps_the_runs_exit_code(tmp_path, monkeypatch,
                                                                                       rate, code):
    out = tmp_path / "out"
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(sys, "stdout", _InterruptedStdout(out / "results.json"))
    args = [*toy(out, 6, 0.0), "--task-args", "toy:bad=0", "--max-error-rate", rate]  # one error sample
    assert main(args) == code
    assert (out / "results.json").exists()
