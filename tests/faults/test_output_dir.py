"""The output directory's integrity (issue 19): one run at a time, labels read now, no other model's
or older run's files left behind, damaged sample files refused, the umask honoured, and a rerun with
nothing to compute that loads no model. One test per item, named for it."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from harness.cli import main
from harness.config import RunConfig
from harness.records import read_records
from harness.runner import evaluate, load_task, sample_key
from harness.types import MediaRef
from tests.toy import HashAdapter

REPO = Path(__file__).resolve().parents[2]
TOY = "tests.toy:ToyTask"
TOY2 = "tests.toy:ToyTask2"


def env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1"}


NAMES = {TOY: "toy", TOY2: "toy2"}


def run_args(out: Path, tasks: str = TOY, tag: str = "v1", n: int = 12) -> list[str]:
    task_args = [a for t in tasks.split(",") for a in ("--task-args", f"{NAMES[t]}:n={n}")]
    return ["run", "--model", "tests.toy:HashAdapter", "--model-args", f"tag={tag}", "--tasks", tasks, *task_args,
            "--output-dir", str(out), "--no-progress", "--max-error-rate", "1"]


def results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


# -- item 1: two runs into one --output-dir ------------------------------------------------------

def cli(out: Path, sleep: float, nproc: int = 1) -> list[str]:
    launch = [sys.executable, "-m", "harness"] if nproc == 1 else [
        sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", "-m", "harness"]
    return launch + ["run", "--model", "tests.toy:HashAdapter", "--model-args", f"batch_size=2,sleep={sleep}",
                     "--tasks", TOY, "--task-args", "toy:n=60", "--output-dir", str(out), "--no-progress"]


def test_item1_a_second_run_into_a_busy_output_dir_is_refused_naming_the_holder(tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen(cli(out, sleep=1.0), cwd=REPO, env=env(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not read_records(out / "samples" / "toy.rank0.jsonl"):  # the holder is inferring
            assert time.monotonic() < deadline and holder.poll() is None
            time.sleep(0.05)
        second = subprocess.run(cli(out, sleep=0), cwd=REPO, env=env(), capture_output=True, text=True, timeout=30,
                                check=False)
        assert second.returncode == 2, (second.returncode, second.stderr[-2000:])
        assert f"pid {holder.pid}" in second.stderr and "Traceback" not in second.stderr
        # Under torchrun rank 0 asks for the lock and every rank learns the answer: none is left waiting.
        ranks = subprocess.run(cli(out, sleep=0, nproc=2), cwd=REPO, env=env(), capture_output=True, text=True,
                               timeout=90, check=False)
        assert ranks.returncode != 0 and f"pid {holder.pid}" in ranks.stderr, ranks.stderr[-2000:]
        assert holder.poll() is None  # both were refused while the first run held the directory
    finally:
        os.killpg(holder.pid, signal.SIGKILL)  # dies holding the lock: the kernel releases it
        holder.wait()
    rerun = subprocess.run(cli(out, sleep=0), cwd=REPO, env=env(), capture_output=True, text=True, timeout=60,
                           check=False)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    ids = [r["id"] for r in read_records(out / "samples" / "toy.jsonl")]
    assert len(ids) == len(set(ids)) == 60 and results(out)["tasks"]["toy"]["n_samples"] == 60


# -- item 2: a corrected label ------------------------------------------------------------------

def test_item2_a_corrected_label_changes_the_score_without_inference(tmp_path):
    cfg = RunConfig(output_dir=tmp_path / "out", task_options={"toy": {"n": 12}}, progress=False)
    first = evaluate(HashAdapter(), [TOY], cfg)["tasks"]["toy"]
    recs = read_records(tmp_path / "out" / "samples" / "toy.jsonl")
    wrong = next(r for r in recs if r["state"] == "scored" and not r["correct"])
    run = load_task(TOY, cfg)  # the annotation, corrected: the model's answer was right after all
    sample = next(s for s in run.samples if s.id == wrong["id"])
    sample.answer = wrong["parsed"]
    model = HashAdapter()
    second = evaluate(model, [run], cfg)["tasks"]["toy"]
    assert model.calls == 0  # no inference is redone for a label
    fixed = next(r for r in read_records(tmp_path / "out" / "samples" / "toy.jsonl") if r["id"] == wrong["id"])
    assert fixed["target"] == wrong["parsed"] and fixed["correct"] is True
    assert second["metrics"]["accuracy"] == pytest.approx(first["metrics"]["accuracy"] + 1 / 12, abs=1e-6)
    # `harness score` reads files only: it scores the labels the last run stored.
    assert main(["score", str(tmp_path / "out"), "--no-progress"]) == 0
    assert results(tmp_path / "out")["tasks"]["toy"]["metrics"]["accuracy"] == second["metrics"]["accuracy"]


def test_item2_a_corrected_clip_or_prompt_field_is_inferred_again_and_only_that_sample(tmp_path):
    # A label is scored, not inferred; anything the model sees is inferred again when it changes: the
    # question and options, the video and its clip bounds, and fields a task builds its prompt from
    # (Video-MME's subtitles, Video-ChatGPT's second question live in `meta`).
    cfg = RunConfig(output_dir=tmp_path / "out", task_options={"toy": {"n": 12}}, progress=False)
    run = load_task(TOY, cfg)
    s = run.samples[0]
    base = sample_key("fp", run, s)
    variants = {"label": replace(s, answer="something else"),
                "clip": replace(s, media=MediaRef("v/a.mp4", start=1.0, end=4.0)),
                "clip moved": replace(s, media=MediaRef("v/a.mp4", start=1.5, end=4.0)),
                "folder fps": replace(s, media=MediaRef("v/a.mp4", kind="frames", start=1.0, end=4.0, fps=3.0)),
                "meta": replace(s, meta={**s.meta, "question2": "and then?"})}
    keys = {name: sample_key("fp", run, v) for name, v in variants.items()}
    assert keys.pop("label") == base
    assert len({base, *keys.values()}) == 1 + len(keys)
    evaluate(HashAdapter(), [run], cfg)
    again = load_task(TOY, cfg)
    again.samples[3].meta["question2"] = "asked as well"
    model = HashAdapter()
    evaluate(model, [again], cfg)
    assert model.calls == 1


# -- item 3: another model's, or an older run's, files -----------------------------------------

def test_item3_another_models_dir_is_refused_and_no_older_task_is_left_undescribed(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(run_args(out, tag="v1")) == 0
    capsys.readouterr()
    assert main(run_args(out, tag="v2")) == 2
    err = capsys.readouterr().err
    assert "hash-v1" in err and "hash-v2" in err and "--overwrite" in err
    assert results(out)["model"]["fingerprint"] == "hash-v1"
    assert main(run_args(out, tag="v2") + ["--overwrite"]) == 0
    assert results(out)["model"]["fingerprint"] == "hash-v2"
    # The same model on another task: toy's files would stay with results.json describing toy2 only.
    capsys.readouterr()
    assert main(run_args(out, TOY2, tag="v2")) == 2
    err = capsys.readouterr().err
    assert "toy" in err and "--tasks" in err
    assert set(results(out)["tasks"]) == {"toy"} and (out / "samples" / "toy.jsonl").exists()
    before = HashAdapter.generated
    assert main(run_args(out, f"{TOY},{TOY2}", tag="v2")) == 0
    assert HashAdapter.generated - before == 12  # toy2 only: toy's finished samples are reused
    assert set(results(out)["tasks"]) == {"toy", "toy2"}
    assert main(run_args(out, TOY2, tag="v2") + ["--overwrite"]) == 0  # toy's files go with --overwrite
    assert set(results(out)["tasks"]) == {"toy2"}
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["toy2.jsonl"]


# -- item 4: `harness score` on damaged sample files --------------------------------------------

def test_item4_score_refuses_damaged_sample_files_naming_file_and_line(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(run_args(out, n=10)) == 0
    path = out / "samples" / "toy.jsonl"
    good, res_before = path.read_bytes(), (out / "results.json").read_bytes()
    lines = good.splitlines(keepends=True)
    damaged = {"corrupt line": b"".join(lines[:3] + [b'{"id": "q00003", "key": \n'] + lines[4:]),
               "duplicated line": good + lines[1]}
    for case, data in damaged.items():
        path.write_bytes(data)
        capsys.readouterr()
        assert main(["score", str(out), "--no-progress"]) == 2, case
        err = capsys.readouterr().err
        assert str(path) in err and ("line 4" if case == "corrupt line" else "line 11") in err, (case, err)
        assert path.read_bytes() == data, case  # nothing rewritten away
        assert (out / "results.json").read_bytes() == res_before, case
    path.unlink()
    assert main(["score", str(out), "--no-progress"]) == 2
    assert str(path) in capsys.readouterr().err
    assert (out / "results.json").read_bytes() == res_before  # not overwritten with n=0


# -- item 15: file modes ------------------------------------------------------------------------

def test_item15_result_files_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        assert main(run_args(tmp_path / "a", n=4)) == 0
        os.umask(0o022)
        assert main(run_args(tmp_path / "b", n=4)) == 0
    finally:
        os.umask(old)
    for d, mode in (("a", 0o640), ("b", 0o644)):
        for f in ("results.json", "results.md", "samples/toy.jsonl"):
            assert stat.S_IMODE((tmp_path / d / f).stat().st_mode) == mode, (d, f)


# -- item 17: a rerun with nothing to compute ---------------------------------------------------

def test_item17_a_finished_rerun_loads_no_model_and_says_what_is_done(tmp_path, capsys):
    out = tmp_path / "out"
    loads = HashAdapter.loads
    assert main(run_args(out, n=20) + ["--limit", "15"]) == 0
    assert "toy: 0 of 15 done, 15 to compute" in capsys.readouterr().out
    assert main(run_args(out, n=20)) == 0
    assert "toy: 15 of 20 done, 5 to compute" in capsys.readouterr().out
    assert HashAdapter.loads - loads == 2
    assert main(run_args(out, n=20) + ["--dry-run"]) == 0
    assert "toy: 20 of 20 done, 0 to compute" in capsys.readouterr().out
    assert main(run_args(out, n=20)) == 0
    text = capsys.readouterr().out
    assert "toy: 20 of 20 done, 0 to compute" in text
    assert HashAdapter.loads - loads == 2  # nothing pending: the model was not loaded
    assert results(out)["tasks"]["toy"]["n_samples"] == 20 and results(out)["model"]["fingerprint"] == "hash-v1"
