"""One leaderboard over runs of different adapters: our tiny VideoLLaMA2, a tiny transformers model
(`hf`), and a model behind a local OpenAI-compatible server (`openai`) — a row per model, each task's
instruction the same for all of them."""

from __future__ import annotations

import pytest

from harness.cli import main
from harness.config import RunConfig
from harness.records import read_records
from harness.runner import load_task
from tests import hf_tiny
from tests.judge_server import JudgeServer

ARGS = ["--tasks", "mvbench", "--limit", "4", "--no-progress", "--gen-kwargs", "max_new_tokens=8"]


def test_report_over_three_adapters_gives_a_row_per_model(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-unused")
    runs = {name: tmp_path / name for name in ("tiny-vl2", "tiny-qwen", "served")}
    assert main(["run", "--model", "videollama2", "--output-dir", str(runs["tiny-vl2"]), *ARGS]) == 0
    qwen = hf_tiny.build("qwen2_5_vl", tmp_path / "ckpt")
    assert main(["run", "--model", "hf", "--model-args", f"path={qwen},frames_as=images,num_frames=4",
                 "--output-dir", str(runs["tiny-qwen"]), *ARGS]) == 0
    task = load_task("mvbench", RunConfig(output_dir=tmp_path / "x", limit=4))
    answers = {task.task.prompt(s): s.answer for s in task.samples}
    seen: list[str] = []

    def script(system: str, user: str) -> str:
        seen.append(user)
        return f"({answers.get(user, 'A')})"

    with JudgeServer(script=script, served_model="served-x") as server:
        assert main(["run", "--model", "openai", "--model-args", f"model=served-x,base_url={server.url}/v1",
                     "--output-dir", str(runs["served"]), *ARGS]) == 0
    # the official instruction, byte for byte, is what the served model was asked, as the others were
    assert sorted(seen) == sorted(answers)
    questions = {tuple(r["question"] for r in read_records(d / "samples" / "mvbench.jsonl")) for d in runs.values()}
    assert len(questions) == 1
    capsys.readouterr()
    assert main(["report", *map(str, runs.values()), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split(",")[:2] == ["run", "MVBench"]
    rows = {line.split(",")[0]: line.split(",")[1] for line in lines[1:]}
    assert set(rows) == {"videollama2 (tiny-vl2)", "hf (tiny-qwen)", "openai (served)"}
    assert float(rows["openai (served)"]) == pytest.approx(100.0)  # the server answers each question right
    assert all(value != "" for value in rows.values())


