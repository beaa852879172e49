"""End to end through the CLI on the embedded demo sets: oracle 100%, constant = answer share,
and each bad input of the core issue as a counted per-sample error with a clear message."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.cli import main
from harness.demo import demo_root
from harness.records import read_records
from harness.registry import get_task_class

MCQ = ["mvbench", "videomme", "egoschema", "perception_test"]


pytestmark = pytest.mark.usefixtures("module_cache")


def run(out: Path, *args: str) -> int:
    return main(["run", "--output-dir", str(out), "--no-progress", *args])


def results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


def test_oracle_scores_100_and_constant_scores_the_answer_share(tmp_path):
    tasks = ",".join(MCQ)
    assert run(tmp_path / "oracle", "--model", "oracle", "--tasks", tasks) == 0
    assert run(tmp_path / "const", "--model", "constant", "--model-args", "answer=A", "--tasks", tasks) == 0
    for name in MCQ:
        assert results(tmp_path / "oracle")["tasks"][name]["metrics"]["accuracy"] == 1.0
        recs = read_records(tmp_path / "const" / "samples" / f"{name}.jsonl")
        share = sum(r["target"] == "A" for r in recs) / len(recs)
        assert results(tmp_path / "const")["tasks"][name]["metrics"]["accuracy"] == pytest.approx(share, abs=1e-6)
        assert all(r["frames"]["indices"] and len(r["frames"]["indices"]) == 8 for r in recs)


def test_dry_run_prints_the_plan_without_a_model(tmp_path, capsys):
    assert run(tmp_path, "--model", "videollama2", "--tasks", "mvbench,videomme", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "mvbench [test] samples=" in out and "videomme" in out and not (tmp_path / "results.json").exists()


@pytest.fixture
def broken_root(tmp_path) -> Path:
    """A copy of the Perception Test demo with one missing, one truncated, one empty video and
    one annotation record whose video path escapes the root."""
    root = tmp_path / "data" / "perception_test"
    shutil.copytree(demo_root(get_task_class("perception_test")), root)
    videos = sorted((root / "videos").glob("*.mp4"))
    videos[0].unlink()
    videos[1].write_bytes(videos[1].read_bytes()[:300])
    videos[2].write_bytes(b"")
    ann = root / "mc_question_valid.json"
    data = json.loads(ann.read_text())
    first = sorted(data)[3]
    data["../../escape"] = data.pop(first)
    ann.write_text(json.dumps(data))
    return root


def test_bad_videos_are_per_sample_errors_counted_and_fail_the_exit_code(tmp_path, broken_root, capsys):
    data_root = broken_root.parent
    # Default --max-error-rate 0: missing videos fail fast, before the model loads, with the list.
    assert run(tmp_path / "o1", "--model", "constant", "--tasks", "perception_test", "--data-root", str(data_root)) == 2
    err = capsys.readouterr().err
    assert "videos are missing" in err and "Traceback" not in err
    # Allowed: the run completes, each bad sample is an error naming its file, and nothing is dropped.
    assert run(tmp_path / "o2", "--model", "constant", "--tasks", "perception_test", "--data-root", str(data_root),
               "--max-error-rate", "0.5") == 0
    recs = read_records(tmp_path / "o2" / "samples" / "perception_test.jsonl")
    errors = [r for r in recs if r["state"] == "error"]
    t = results(tmp_path / "o2")["tasks"]["perception_test"]
    # 48 questions; the escaping video record (3 questions) becomes one error sample for the record
    assert t["n_samples"] == len(recs) == 46 and t["n_errors"] == len(errors) >= 4
    text = " ".join(r["error"] for r in errors)
    assert "escapes the data root" in text and str(broken_root / "videos") in text
    assert run(tmp_path / "o3", "--model", "constant", "--tasks", "perception_test", "--data-root", str(data_root),
               "--max-error-rate", "0.1") == 1  # 10/46 failed > 10%


def test_verify_lists_every_unusable_video(broken_root, capsys):
    assert main(["verify", "--tasks", "perception_test", "--data-root", str(broken_root.parent)]) == 1
    out = capsys.readouterr().out
    bad_lines = [line for line in out.splitlines() if line.startswith("perception_test ")]
    assert len(bad_lines) >= 4 and "samples ready" in out


def test_server_scored_splits_write_the_answers_the_model_gave(tmp_path):
    """Through the whole run (inference, merge, scoring, results): the submission files carry each
    question's parsed answer. (Scoring keeps slim records; the Perception Test submission needs the
    option texts, which a slim record once lacked: every answer_id came out as the fallback 2.)"""
    ego = demo_root(get_task_class("egoschema"))
    pt = demo_root(get_task_class("perception_test"))
    data = tmp_path / "data"
    (data / "perception_test").mkdir(parents=True)
    shutil.copytree(pt / "videos", data / "perception_test" / "videos")
    questions = json.loads((pt / "mc_question_valid.json").read_text())
    for entry in questions.values():
        for q in entry["mc_question"]:
            del q["answer_id"]  # the test split has no labels
    (data / "perception_test" / "mc_question_test.json").write_text(json.dumps(questions))
    shutil.copytree(ego, data / "egoschema", symlinks=True)
    out = tmp_path / "out"
    assert run(out, "--model", "constant", "--model-args", "answer=(B)", "--data-root", str(data),
               "--tasks", "perception_test,egoschema", "--task-args", "perception_test:split=test",
               "--task-args", "egoschema:split=full") == 0
    res = results(out)["tasks"]
    sub = json.loads(Path(res["perception_test"]["submission"]).read_text())
    answers = [a for qs in sub.values() for a in qs]
    assert len(answers) == 48 and len(sub) == 16
    by_id = {(vid, q["id"]): q for vid, e in questions.items() for q in e["mc_question"]}
    assert all(a["answer_id"] == 1 and a["answer"] == by_id[(vid, a["id"])]["options"][1]
               for vid, qs in sub.items() for a in qs)
    ego_sub = json.loads((Path(res["egoschema"]["submission"]).parent / "egoschema_full_submission.json").read_text())
    assert len(ego_sub) == 40 and set(ego_sub.values()) == {1}


def test_runs_recorded_before_the_tasks_moved_into_the_harness_package_still_rescore(tmp_path):
    """results.json records each task's class; runs made when tasks/ and models/ installed as
    top-level packages recorded tasks.<module>:<Class>. Those names resolve to the same classes."""
    from harness.registry import get_model_class

    assert get_task_class("tasks.mvbench:MVBench") is get_task_class("mvbench")
    assert get_model_class("models.adapters.testing:OracleAdapter") is get_model_class("oracle")
    out = tmp_path / "old"
    assert run(out, "--model", "oracle", "--tasks", "mvbench", "--limit", "6") == 0
    res = results(out)
    assert res["tasks"]["mvbench"]["class"] == "harness.tasks.mvbench:MVBench"
    res["tasks"]["mvbench"]["class"] = "tasks.mvbench:MVBench"
    (out / "results.json").write_text(json.dumps(res))
    assert main(["score", str(out), "--no-progress"]) == 0
    again = results(out)["tasks"]["mvbench"]
    assert again["class"] == "harness.tasks.mvbench:MVBench" and again["metrics"] == res["tasks"]["mvbench"]["metrics"]
