"""The gate: floors, allowed drops judged by the paired test, markdown + JUnit outputs."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.cli import main
from harness.config import RunConfig
from harness.report.stats import mcnemar
from harness.runner import evaluate
from tests.toy import HashAdapter


def test_mcnemar_exact_values():
    a = [True] * 10 + [False] * 10
    b = [False] * 8 + [True] * 2 + [False] * 10  # 8 got worse, 0 better
    r = mcnemar(a, b)
    assert (r.worse, r.better) == (8, 0) and abs(r.p_worse - 1 / 256) < 1e-12 and r.delta == -0.4
    assert mcnemar(a, a).p_worse == 1.0


def _run(out, tag: str, n: int = 60) -> None:
    evaluate(HashAdapter(tag=tag), ["tests.toy:ToyTask"], RunConfig(output_dir=out, task_options={"toy": {"n": n}},
                                                                     progress=False))


def test_gate_passes_same_model_and_fails_a_real_regression_with_readable_outputs(tmp_path):
    base, same, worse = tmp_path / "base", tmp_path / "same", tmp_path / "worse"
    _run(base, "v1")
    _run(same, "v1")
    spec = tmp_path / "gate.toml"
    spec.write_text('[[check]]\ntask = "toy"\nmetric = "accuracy"\nmin = 0.0\nmax_drop = 0.02\n')
    assert main(["gate", str(same), "--spec", str(spec), "--baseline", str(base)]) == 0
    # A regression: the candidate answers every question wrong.
    from harness.records import read_records, write_records

    _run(worse, "v1")
    path = worse / "samples" / "toy.jsonl"
    recs = read_records(path)
    for r in recs:
        r["prediction"] = "D" if r["target"] != "D" else "A"
    write_records(path, recs)
    assert main(["score", str(worse), "--no-progress"]) == 0
    md, xml = tmp_path / "summary.md", tmp_path / "junit.xml"
    assert main(["gate", str(worse), "--spec", str(spec), "--baseline", str(base), "--summary", str(md),
                 "--junit", str(xml)]) == 1
    assert "FAILED" in md.read_text() and "(significant)" in md.read_text()
    suite = ET.parse(xml).getroot()
    assert suite.get("failures") == "1" and suite.find("testcase/failure") is not None


def test_a_small_noisy_drop_does_not_fail_the_gate(tmp_path):
    base, cand = tmp_path / "base", tmp_path / "cand"
    _run(base, "v1")
    _run(cand, "v1")
    from harness.records import read_records, write_records

    path = cand / "samples" / "toy.jsonl"
    recs = read_records(path)
    flipped = 0
    for r in recs:  # flip two right answers to wrong: a 3-point drop, but not significant
        if r["correct"] and flipped < 2:
            r["prediction"] = next(x for x in "ABCD" if x != r["target"])
            flipped += 1
    write_records(path, recs)
    main(["score", str(cand), "--no-progress"])
    spec = tmp_path / "gate.json"
    spec.write_text('{"check": [{"task": "toy", "metric": "accuracy", "max_drop": 0.01}]}')
    assert main(["gate", str(cand), "--spec", str(spec), "--baseline", str(base)]) == 0
