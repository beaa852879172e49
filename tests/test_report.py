"""Leaderboards are a pure function of result files: goldens for md/csv/latex, explicit
missing/submitted/judged cells, bad result files, escaping, and a real render in Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.cli import main
from harness.records import write_records
from harness.report import leaderboard, to_csv, to_latex, to_markdown

GOLDEN = Path(__file__).parent / "golden"


def write_run(root: Path, name: str, model: str, tasks: dict, samples: dict | None = None) -> Path:
    d = root / name
    (d / "samples").mkdir(parents=True)
    res = {"schema_version": 1, "created": "2026-11-25T00:00:00+00:00", "harness": {"version": "0.1.0", "git_commit": None},
           "packages": {}, "model": {"name": model, "args": {}, "fingerprint": f"{model}-fp", "info": {}},
           "config": {}, "world_size": 1, "tasks": {}}
    for t, entry in tasks.items():
        res["tasks"][t] = {"version": "1", "split": "test", "n_samples": 10, "n_scored": 10, "n_unparsed": 0, "n_errors": 0,
                           "n_unscored": 0, "frames": "uniform:8", "samples_file": f"samples/{t}.jsonl", **entry}
        write_records(d / "samples" / f"{t}.jsonl", (samples or {}).get(t, []))
    (d / "results.json").write_text(json.dumps(res))
    return d


@pytest.fixture
def runs(tmp_path) -> list[Path]:
    a = write_run(tmp_path, "run_a", "vl2-7b", {
        "mvbench": {"metrics": {"accuracy": 0.546, "accuracy_ci": [0.53, 0.562]}},
        "egoschema": {"server_scored": True, "submission": "submissions/egoschema_full.csv", "metrics": {}},
        "activitynet_qa": {"metrics": {"accuracy": 0.493, "accuracy_ci": [0.48, 0.506], "score": 3.31, "score_ci": [3.2, 3.4]},
                           "judge": {"model": "gpt-3.5-turbo-0125"}, "n_unscored": 1}},
        samples={"mvbench": [{"id": "x/1", "prediction": "<script>alert(1)</script>", "parsed": None, "target": "A",
                              "state": "unparsed", "frames": {}, "media": None}]})
    b = write_run(tmp_path, "run_b", "vl2-7b-16f", {"mvbench": {"metrics": {"accuracy": 0.571, "accuracy_ci": [0.555, 0.587]}}})
    return [a, b]


@pytest.mark.parametrize("fmt, render", [("md", to_markdown), ("csv", to_csv), ("latex", to_latex)])
def test_goldens(runs, fmt, render):
    text = render(leaderboard(runs))
    golden = GOLDEN / f"leaderboard.{fmt}"
    if os.environ.get("REGEN_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


def test_cells_say_what_they_are(runs):
    board = leaderboard(runs)
    texts = {h: [r["cells"][i]["text"] for r in board["rows"]] for i, h in enumerate(board["headers"][1:])}
    assert texts["EgoSchema"][0].startswith("submitted (submissions/egoschema_full.csv")
    assert texts["EgoSchema"][1] == "missing"
    assert "judge gpt-3.5-turbo-0125, 10% unscored" in texts["ANet-QA acc"][0]


def test_bad_result_files_are_clear_errors(runs, tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "results.json").write_text('{"schema_version": 1, "tasks": {')
    assert main(["report", str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    (bad / "results.json").write_text('{"schema_version": 99, "tasks": {}}')
    assert main(["report", str(bad)]) == 2
    assert "schema 99" in capsys.readouterr().err


def test_judge_column_shows_the_model_returned_and_deviations_are_footnoted(tmp_path):
    run = write_run(tmp_path, "r", "vl2", {
        "activitynet_qa": {"metrics": {"accuracy": 0.5, "score": 3.0}, "protocol": "videollama2@c0bb03a",
                           "deviations": ["judge sampling temperature=0 (official: temperature=0.7, top_p=0.95)"],
                           "judge": {"model": "gpt-3.5-turbo", "stats": {"models_returned": ["gpt-3.5-turbo-0125"]}}},
        "mvbench": {"metrics": {"accuracy": 0.6}, "protocol": "videollama2@c0bb03a",
                    "deviations": ["generation max_new_tokens=32 (official: do_sample=False, max_new_tokens=2048)"]}})
    board = leaderboard([run])
    md, latex = to_markdown(board), to_latex(board)
    assert "judge gpt-3.5-turbo -> gpt-3.5-turbo-0125" in md
    assert "60.0 [1]" in md and "50.0 (judge gpt-3.5-turbo -> gpt-3.5-turbo-0125, 0% unscored) [2]" in md
    assert "[1] deviation from videollama2@c0bb03a: generation max_new_tokens=32" in md
    assert "[2] deviation from videollama2@c0bb03a: judge sampling temperature=0" in md
    assert r"\textbf{60.0}\textsuperscript{1}" in latex and r"\footnotesize\textsuperscript{2} deviation" in latex


def test_mixed_task_versions_are_flagged(runs):
    res = json.loads((runs[1] / "results.json").read_text())
    res["tasks"]["mvbench"]["version"] = "2"
    (runs[1] / "results.json").write_text(json.dumps(res))
    assert "different versions of `mvbench`" in to_markdown(leaderboard(runs))


def test_parquet_holds_every_sample(runs, tmp_path):
    import pandas as pd

    assert main(["report", *map(str, runs), "--format", "parquet", "--output", str(tmp_path / "s.parquet")]) == 0
    df = pd.read_parquet(tmp_path / "s.parquet")
    assert list(df["id"]) == ["x/1"] and df["state"][0] == "unparsed"


def test_html_escapes_model_output_and_renders_in_chromium(runs, tmp_path):
    out = tmp_path / "report.html"
    assert main(["report", *map(str, runs), "--format", "html", "--output", str(out)]) == 0
    text = out.read_text()
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<svg" in text and "http" not in text.replace("http://www.w3.org/2000/svg", "")  # nothing fetched
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("chromium not installed (CI installs it: apt-get install chromium)")
    shot = tmp_path / "report.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'ud'}",
                    f"--screenshot={shot}", "--window-size=1280,1600", out.as_uri()], capture_output=True, timeout=90, check=False)
    assert shot.exists() and shot.stat().st_size > 5000  # a rendered page, kept with the test's artefacts


def test_compare_lists_deltas_and_flipped_samples(tmp_path, capsys):
    recs_a = [{"id": f"s{i}", "correct": i < 6, "state": "scored"} for i in range(10)]
    recs_b = [{"id": f"s{i}", "correct": i < 4 or i == 9, "state": "scored"} for i in range(10)]
    a = write_run(tmp_path, "a", "m1", {"mvbench": {"metrics": {"accuracy": 0.6}}}, {"mvbench": recs_a})
    b = write_run(tmp_path, "b", "m2", {"mvbench": {"metrics": {"accuracy": 0.5}}}, {"mvbench": recs_b})
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "-10.0" in out and "3 flipped: s4 (broke), s5 (broke), s9 (fixed)" in out


def test_published_rows_come_with_deltas(runs):
    board = leaderboard(runs, published=True)
    names = [r["run"] for r in board["rows"]]
    assert any("[published:" in n for n in names)
    delta = next(r for r in board["rows"] if r["run"].startswith("Δ vl2-7b (run_a)"))
    mv = board["headers"][1:].index("MVBench")
    assert delta["cells"][mv]["text"] == "+0.0"  # 54.6 here vs 54.6 published
