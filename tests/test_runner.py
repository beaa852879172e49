"""The runner's promises on a text-only toy task: records, states, resume by content key, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.config import RunConfig
from harness.errors import OutputDirError
from harness.records import read_records
from harness.runner import evaluate
from tests.toy import HashAdapter

TOY = "tests.toy:ToyTask"
REPO = Path(__file__).resolve().parents[1]


def run_toy(tmp_path: Path, adapter: HashAdapter, **opts) -> dict:
    cfg = RunConfig(output_dir=tmp_path / "out", task_options={"toy": opts}, progress=False)
    return evaluate(adapter, [TOY], cfg)


def test_records_carry_the_recipe_and_states_are_counted(tmp_path):
    res = run_toy(tmp_path, HashAdapter(), n=30)
    t = res["tasks"]["toy"]
    recs = read_records(tmp_path / "out" / "samples" / "toy.jsonl")
    assert [r["id"] for r in recs] == [f"q{i:05d}" for i in range(30)]
    for r in recs:
        assert {"id", "key", "prediction", "parsed", "target", "correct", "state", "frames", "error"} <= set(r)
    n_unparsed = sum(r["state"] == "unparsed" for r in recs)
    n_correct = sum(bool(r["correct"]) for r in recs)
    assert n_unparsed > 0  # the adapter answers prose for some prompts: counted, not guessed
    assert t["n_samples"] == 30 and t["n_unparsed"] == n_unparsed and t["n_scored"] == 30 - n_unparsed
    assert t["metrics"]["accuracy"] == pytest.approx(n_correct / 30)
    lo, hi = t["metrics"]["accuracy_ci"]
    assert lo <= t["metrics"]["accuracy"] <= hi
    assert res["schema_version"] == 1 and res["model"]["fingerprint"] == "hash-v1"
    assert (tmp_path / "out" / "results.md").read_text().count("toy") >= 1


def test_rerun_recomputes_nothing_and_a_changed_setting_only_what_it_affects(tmp_path):
    run_toy(tmp_path, HashAdapter(), n=20)
    again = HashAdapter()
    run_toy(tmp_path, again, n=20)
    assert again.calls == 0
    bigger = HashAdapter()
    run_toy(tmp_path, bigger, n=20)
    other_model = HashAdapter(tag="v2")
    with pytest.raises(OutputDirError, match="fingerprint hash-v1"):  # never over another model's results
        run_toy(tmp_path, other_model, n=20)
    assert other_model.calls == 0
    cfg = RunConfig(output_dir=tmp_path / "out", task_options={"toy": {"n": 20}}, progress=False, overwrite=True)
    assert evaluate(other_model, [TOY], cfg)["model"]["fingerprint"] == "hash-v2"
    assert other_model.calls == 20  # a different model never reuses another's predictions


def test_a_torn_last_line_is_redone(tmp_path):
    run_toy(tmp_path, HashAdapter(), n=10)
    path = tmp_path / "out" / "samples" / "toy.jsonl"
    full = path.read_bytes()
    lines = full.splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]) + lines[-1][:25])  # killed mid-write
    redo = HashAdapter()
    run_toy(tmp_path, redo, n=10)
    assert redo.calls == 1
    assert [r["id"] for r in read_records(path)] == [f"q{i:05d}" for i in range(10)]


def test_a_bad_record_is_an_error_state_and_sets_the_exit_code(tmp_path, capsys):
    args = ["run", "--model", "tests.toy:HashAdapter", "--tasks", TOY, "--task-args", "toy:n=12,bad=3",
            "--output-dir", str(tmp_path / "o"), "--no-progress"]
    assert main(args) == 1
    assert "1/12 samples failed" in capsys.readouterr().err
    recs = read_records(tmp_path / "o" / "samples" / "toy.jsonl")
    bad = [r for r in recs if r["state"] == "error"]
    assert len(recs) == 12 and [r["id"] for r in bad] == ["q00003"] and "missing field" in bad[0]["error"]
    assert main(args + ["--max-error-rate", "0.1"]) == 0


def test_score_rescoring_reads_files_only(tmp_path):
    res = run_toy(tmp_path, HashAdapter(), n=15)
    assert main(["score", str(tmp_path / "out"), "--no-progress"]) == 0
    again = json.loads((tmp_path / "out" / "results.json").read_text())
    assert again["tasks"]["toy"]["metrics"] == res["tasks"]["toy"]["metrics"]


def test_user_mistakes_are_one_line_errors(tmp_path, capsys):
    assert main(["run", "--tasks", "mvbenc", "--model", "tests.toy:HashAdapter"]) == 2
    err = capsys.readouterr().err
    assert "unknown task 'mvbenc'" in err and "did you mean 'mvbench'" in err and "Traceback" not in err
    assert main(["run", "--tasks", TOY, "--model", "tests.toy:HashAdapter", "--frames", "every:3"]) == 2
    assert "bad frame policy" in capsys.readouterr().err
    assert main(["score", str(tmp_path)]) == 2
    assert "no results.json" in capsys.readouterr().err


def test_list_imports_no_torch():
    code = "import sys; from harness.cli import main; main(['list','tasks']); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip().endswith("False")


def test_every_departure_from_the_official_protocol_is_recorded_and_footnoted(tmp_path):
    """The official run records protocol and no deviation; changed generation settings, another frame
    policy or another prompt wording are each one line in results.json and a footnote in results.md."""
    official = run_toy(tmp_path / "a", HashAdapter(), n=6)["tasks"]["toy"]
    assert official["protocol"] == "videollama2@c0bb03a" and official["deviations"] == []
    assert official["gen_kwargs"] == {"do_sample": False, "max_new_tokens": 2048}
    assert "Protocol: videollama2@c0bb03a (no deviations)" in (tmp_path / "a" / "out" / "results.md").read_text()
    from harness.types import FramePolicy

    class Framed(HashAdapter):
        def frame_policy(self) -> FramePolicy:
            return FramePolicy("uniform", 8)

        def deviations(self) -> list[str]:
            return ["frames padded to square"]

    cfg = RunConfig(output_dir=tmp_path / "b", task_options={"toy": {"n": 6}}, progress=False,
                    gen_kwargs={"max_new_tokens": 32}, frames=FramePolicy("uniform", 16))
    devs = evaluate(Framed(), [TOY], cfg)["tasks"]["toy"]["deviations"]
    assert devs == ["frames padded to square", "frames uniform:16 (the model's own: uniform:8)",
                    "generation max_new_tokens=32 (official: do_sample=False, max_new_tokens=2048)"]
    table = (tmp_path / "b" / "results.md").read_text()
    assert "| toy [1,2,3]" in table
    assert "[3] deviation from videollama2@c0bb03a: generation max_new_tokens=32" in table


class OutOfMemoryError(RuntimeError):
    """What torch.cuda.OutOfMemoryError is to the runner: a RuntimeError of that name (no torch here)."""


class RunsOutOfMemory(HashAdapter):
    """Runs out of memory on any batch holding sample q00003 (even alone), unless `roomy`: as a long
    video does at one batch_size and frame count, and not at smaller ones (same fingerprint)."""

    def __init__(self, error: BaseException | None = None, roomy: bool = False):
        super().__init__(batch_size=4)
        self.error, self.roomy = error, roomy

    def generate(self, requests):
        if not self.roomy and any(r.sample_id == "q00003" for r in requests):
            raise self.error
        return super().generate(requests)


@pytest.mark.parametrize("error", [OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"),
                                   RuntimeError("HIP out of memory"), MemoryError()], ids=["cuda", "message", "host"])
def test_out_of_memory_at_batch_1_is_a_transient_error_a_rerun_with_room_computes(error, tmp_path):
    cfg = RunConfig(output_dir=tmp_path / "out", task_options={"toy": {"n": 8}}, progress=False)
    res = evaluate(RunsOutOfMemory(error), [TOY], cfg)
    rec = {r["id"]: r for r in read_records(tmp_path / "out" / "samples" / "toy.jsonl")}["q00003"]
    assert rec["error"].startswith(f"generation failed: {type(error).__name__}") and rec["transient"] is True
    assert res["tasks"]["toy"]["n_errors"] == 1 and res["tasks"]["toy"]["n_errors_transient"] == 1
    roomy = RunsOutOfMemory(roomy=True)  # e.g. a smaller batch_size, which the resume key does not cover
    res = evaluate(roomy, [TOY], cfg)
    assert roomy.calls == 1 and res["tasks"]["toy"]["n_errors"] == 0


def test_any_other_generate_exception_at_batch_1_stays_a_final_error(tmp_path):
    cfg = RunConfig(output_dir=tmp_path / "out", task_options={"toy": {"n": 8}}, progress=False, max_error_rate=1)
    evaluate(RunsOutOfMemory(ValueError("bad input")), [TOY], cfg)
    rec = {r["id"]: r for r in read_records(tmp_path / "out" / "samples" / "toy.jsonl")}["q00003"]
    assert rec["error"] == "generation failed: ValueError: bad input" and "transient" not in rec
    again = RunsOutOfMemory(roomy=True)
    evaluate(again, [TOY], cfg)
    assert again.calls == 0
