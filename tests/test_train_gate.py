"""Train-then-eval gating with the real pieces: the shipped model passes the project's gate, and a
deliberately broken training run (answers shuffled across records) fails it with a readable summary.
(The full from-scratch train -> eval -> gate runs in CI as scripts/train_then_eval.sh.)"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.cli import main as harness_main
from harness.models.videollama2.train import main as train_main
from harness.tasks._trainset import build_trainset

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "results" / "gates" / "tiny.toml"
BASELINE = REPO / "results" / "baselines" / "tiny-default"
TASKS = ("mvbench", "videomme", "activitynet_qa")  # as scripts/train_then_eval.sh runs them


def _eval(ckpt: Path | None, out: Path) -> None:
    args = ["run", "--tasks", ",".join(TASKS), "--task-args", "activitynet_qa:scoring=exact", "--output-dir", str(out),
            "--no-progress"]
    if ckpt is not None:
        args[1:1] = ["--model", "videollama2", "--model-args", f"path={ckpt}"]
    assert harness_main(args) == 0


def test_the_stored_baseline_is_the_shipped_model_and_passes_its_gate(tmp_path):
    base = json.loads((BASELINE / "results.json").read_text())
    _eval(None, tmp_path / "shipped")
    fresh = json.loads((tmp_path / "shipped" / "results.json").read_text())
    assert fresh["model"]["fingerprint"] == base["model"]["fingerprint"], "re-record the baseline after retraining"
    for task in TASKS:
        assert fresh["tasks"][task]["metrics"]["accuracy"] == base["tasks"][task]["metrics"]["accuracy"]
    assert harness_main(["gate", str(tmp_path / "shipped"), "--spec", str(SPEC), "--baseline", str(BASELINE)]) == 0


@pytest.mark.slow
def test_a_run_trained_on_shuffled_answers_fails_the_gate_readably(tmp_path):
    data = build_trainset(tmp_path / "data", 48)
    ckpt = tmp_path / "broken"
    assert train_main(["--model_path", "tiny-random", "--data_path", str(data), "--output_dir", str(ckpt), "--use_cpu",
                       "--per_device_train_batch_size", "8", "--max_steps", "30", "--learning_rate", "1e-3",
                       "--save_strategy", "no", "--disable_tqdm", "true", "--shuffle_answers"]) == 0
    assert json.loads((ckpt / "train_summary.json").read_text())["shuffled_answers"] is True
    _eval(ckpt, tmp_path / "eval")
    md, xml = tmp_path / "gate.md", tmp_path / "gate.xml"
    code = harness_main(["gate", str(tmp_path / "eval"), "--spec", str(SPEC), "--baseline", str(BASELINE),
                         "--summary", str(md), "--junit", str(xml)])
    assert code == 1
    summary = md.read_text()
    assert summary.startswith("## Eval gate: FAILED")
    # No grounding learned: the open answers fall below the floor and significantly below the baseline.
    row = next(line for line in summary.splitlines() if line.startswith("| activitynet_qa.accuracy |"))
    assert "**FAIL**" in row and "< floor" in row and "(significant)" in row
    assert int(ET.parse(xml).getroot().get("failures")) >= 1
