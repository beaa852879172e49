"""Open-ended tasks: real annotation files through the loaders, the official exact-match number,
bad records, and end-to-end judged scores against the local judge server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.cli import main
from harness.records import read_records
from tasks.activitynet_qa import ActivityNetQA, exact_match_accuracy
from tasks.msvd_qa import MSVDQA
from tasks.videochatgpt import VideoChatGPT
from tests.judge_server import JudgeServer


def test_real_activitynet_test_split_loads(real_fixtures):
    samples = ActivityNetQA(real_fixtures / "activitynet_qa").load()
    assert len(samples) == 8000 and not [s for s in samples if s.error]
    s = samples[0]
    assert s.id == "v_1QIUV7WYKXg_3" and s.answer == "no" and s.media.path.endswith("all_test/v_1QIUV7WYKXg.mp4")


def test_official_exact_match_on_the_real_val_predictions(real_fixtures):
    answers = json.loads((real_fixtures / "activitynet_qa" / "val_a.json").read_text())
    preds = {p["question_id"]: p["answer"] for p in json.loads((real_fixtures / "activitynet_qa" / "pred_val_example.json").read_text())}
    records = [{"prediction": preds[a["question_id"]], "target": a["answer"]} for a in answers]
    assert exact_match_accuracy(records)["accuracy_exact"] == pytest.approx(7172 / 18000, abs=1e-6)  # 0.39844, as published


def test_real_msvd_and_vcgbench_files_load(real_fixtures, tmp_path):
    msvd = MSVDQA(real_fixtures / "msvd_qa").load()
    assert len(msvd) == 92 and not [s for s in msvd if s.error]
    assert msvd[0].media.path.endswith("videos/jfrrO5K_vKM_55_65.avi")
    vcg = VideoChatGPT(real_fixtures / "videochatgpt_gen" / "reconstructed_from_IG-VLM_csv").load()
    by = {k: [s for s in vcg if s.subset == k] for k in ("generic", "temporal", "consistency")}
    assert [len(v) for v in by.values()] == [1996, 499, 499] and not [s for s in vcg if s.error]
    assert by["consistency"][0].meta["question2"].startswith("Can you describe the gym")


def test_bad_records_become_errors_naming_file_and_record(tmp_path):
    root = tmp_path / "msvd_qa"
    root.mkdir()
    qs = [{"video_name": "a", "question_id": "q1", "question": "who?"},
          {"video_name": "b", "question_id": "q2"},  # no question
          {"video_name": "c", "question_id": "q3", "question": "what?"},  # no answer record
          {"video_name": "../../etc/x", "question_id": "q4", "question": "where?"},
          {"video_name": "a", "question_id": "q1", "question": "again?"}]
    ans = [{"answer": "man", "type": 3, "question_id": q} for q in ("q1", "q2", "q4")]
    (root / "test_q.json").write_text(json.dumps(qs))
    (root / "test_a.json").write_text(json.dumps(ans))
    samples = MSVDQA(root).load()
    errors = {s.id: s.error for s in samples if s.error}
    assert len(samples) == 5 and len(errors) == 4
    text = " ".join(errors.values())
    assert "'question'" in text and "no answer with question_id 'q3'" in text and "escapes the data root" in text
    assert "duplicate sample id 'q1'" in text and "test_q.json" in text


def test_missing_annotation_file_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "activitynet_qa").mkdir()
    code = main(["run", "--model", "oracle", "--tasks", "activitynet_qa", "--data-root", str(tmp_path), "--predict-only",
                 "--output-dir", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "test_q.json" in err and "Traceback" not in err


@pytest.fixture
def judged_run(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))

    def run(model: str, *extra: str) -> dict:
        out = tmp_path / model
        with JudgeServer() as server:
            code = main(["run", "--model", model, *extra, "--tasks", "activitynet_qa,msvd_qa,videochatgpt",
                         "--output-dir", str(out), "--no-progress", "--judge", f"base_url={server.url}/v1,concurrency=16"])
        assert code == 0
        return {"res": json.loads((out / "results.json").read_text())["tasks"], "out": out}
    return run


def test_oracle_is_perfect_and_constant_scores_the_yes_share(judged_run):
    oracle = judged_run("oracle")["res"]
    for name in ("activitynet_qa", "msvd_qa"):
        assert oracle[name]["metrics"]["accuracy"] == 1.0 and oracle[name]["metrics"]["score"] == 5.0
        assert oracle[name]["n_unscored"] == 0 and oracle[name]["judge"]["stats"]["requests"] > 0
    assert oracle["activitynet_qa"]["metrics"]["accuracy_exact"] == 1.0
    vcg = oracle["videochatgpt"]["metrics"]
    assert vcg["correctness"] == vcg["temporal"] == 5.0
    const = judged_run("constant", "--model-args", "answer=yes")
    recs = read_records(const["out"] / "samples" / "activitynet_qa.jsonl")
    share = sum(r["target"] == "yes" for r in recs) / len(recs)
    assert const["res"]["activitynet_qa"]["metrics"]["accuracy"] == pytest.approx(share)
