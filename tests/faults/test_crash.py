"""Crash safety: SIGKILL at named stages and at random moments, many seeds; every rerun ends with
results identical to an uninterrupted run, no sample lost or duplicated, no torn file trusted."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.records import read_records

REPO = Path(__file__).resolve().parents[2]
N = 120


def cmd(out: Path, sleep: float = 0.0) -> list[str]:
    return [sys.executable, "-m", "harness", "run", "--model", "tests.toy:HashAdapter",
            "--model-args", f"batch_size=4,sleep={sleep}", "--tasks", "tests.toy:ToyTask",
            "--task-args", f"toy:n={N},bad=7", "--output-dir", str(out), "--no-progress", "--max-error-rate", "1"]


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", **extra}


def final_state(out: Path) -> tuple[bytes, dict]:
    res = json.loads((out / "results.json").read_text())["tasks"]["toy"]
    return (out / "samples" / "toy.jsonl").read_bytes(), {k: res[k] for k in ("metrics", "n_samples", "n_errors",
                                                                              "n_unparsed", "n_scored")}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[bytes, dict]:
    out = tmp_path_factory.mktemp("ref")
    subprocess.run(cmd(out), cwd=REPO, env=env(), check=True, capture_output=True)
    return final_state(out)


def check_against(out: Path, reference: tuple[bytes, dict]) -> None:
    p = subprocess.run(cmd(out), cwd=REPO, env=env(), capture_output=True, text=True, check=False)
    assert p.returncode == 0, p.stderr
    samples, metrics = final_state(out)
    ids = [r["id"] for r in read_records(out / "samples" / "toy.jsonl")]
    assert len(ids) == len(set(ids)) == N  # none lost, none duplicated
    assert samples == reference[0] and metrics == reference[1]
    assert not list((out / "samples").glob("toy.rank*.jsonl"))


@pytest.mark.parametrize("point", ["after_infer", "mid_merge", "mid_score", "mid_results"])
def test_sigkill_at_each_stage_then_rerun(tmp_path, reference, point):
    p = subprocess.run(cmd(tmp_path), cwd=REPO, env=env(HARNESS_CRASH_AT=point), capture_output=True, check=False)
    assert p.returncode == -signal.SIGKILL
    if point in ("after_infer", "mid_merge", "mid_score"):
        assert not (tmp_path / "results.json").exists()
    check_against(tmp_path, reference)


@pytest.mark.parametrize("seed", range(6))
def test_sigkill_at_a_random_moment_then_rerun(tmp_path, reference, seed):
    delay = random.Random(seed).uniform(0.8, 3.0)  # spans start-up, inference, merge and scoring
    proc = subprocess.Popen(cmd(tmp_path, sleep=0.01), cwd=REPO, env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(delay)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    check_against(tmp_path, reference)
