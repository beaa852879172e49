"""The output directory's integrity (issue 19): one run at a time, labels read now, no other model's
or older run's files left behind, damaged sample files refused, the umask honoured, and a rerun with
nothing to compute that loads no model. One test per item, named for it."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from harness.cli import main

TOY = "tests.toy:ToyTask"
NAMES = {TOY: "toy"}


def run_args(out: Path, tasks: str = TOY, tag: str = "v1", n: int = 12) -> list[str]:
    task_args = [a for t in tasks.split(",") for a in ("--task-args", f"{NAMES[t]}:n={n}")]
    return ["run", "--model", "tests.toy:HashAdapter", "--model-args", f"tag={tag}", "--tasks", tasks, *task_args,
            "--output-dir", str(out), "--no-progress", "--max-error-rate", "1"]


def results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


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
