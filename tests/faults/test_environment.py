"""A hostile environment (issue 19, item 11): an output directory that cannot be written (read-only,
under a regular file), a read-only HARNESS_CACHE, a disk that fills up mid-run, `harness report
--output` to a read-only place: one message, exit 2, no traceback, checked before the model loads
where that is possible. A NUL byte in an annotation's video path fails that sample, not the run.

Read-only and full filesystems are real where the tests may mount one (root: a tmpfs mounted `ro`, or
one of 64 KiB that fills up, so the kernel itself answers EROFS / ENOSPC). Elsewhere a read-only folder
is chmod 0555 (which binds anyone but root), and a full disk is simulated in-process: files opened for
writing by harness.records raise ENOSPC once a few KiB are written."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import records
from harness.cli import main
from harness.records import read_records
from harness.registry import get_task_class
from tests.toy import HashAdapter

ROOT = os.geteuid() == 0


def _mount_tmpfs(path: Path, options: str) -> bool:
    """Mount a tmpfs at `path` (root only); False when this machine does not allow it."""
    if not ROOT:
        return False
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, check=False)
    return p.returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


@contextlib.contextmanager
def read_only_dir(path: Path) -> Iterator[Path]:
    path.mkdir(parents=True)
    if _mount_tmpfs(path, "ro,size=64k"):
        try:
            yield path
        finally:
            _umount(path)
    elif not ROOT:
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)
    else:
        pytest.skip("root that may not mount: no way to make a folder it cannot write")


class _FullFile:
    """A text file that takes `room` bytes, then fails as a full disk does."""

    def __init__(self, f, room: list[int]):
        self._f, self._room = f, room

    def write(self, s: str) -> int:
        self._room[0] -= len(s.encode())
        if self._room[0] < 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self._f.write(s)

    def __getattr__(self, name):
        return getattr(self._f, name)


@contextlib.contextmanager
def full_disk(path: Path, monkeypatch) -> Iterator[str]:
    """A folder on a 64 KiB tmpfs (root), else records' files fail with ENOSPC after 16 KiB. Yields how."""
    path.mkdir(parents=True)
    if _mount_tmpfs(path, "size=64k"):
        try:
            yield "tmpfs"
        finally:
            _umount(path)
        return
    room = [16 << 10]

    def fake_open(file, mode="r", *a, **kw):
        f = open(file, mode, *a, **kw)  # noqa: SIM115 - wrapped, closed by its user
        return _FullFile(f, room) if any(c in mode for c in "wa") else f

    monkeypatch.setattr(records, "open", fake_open, raising=False)
    yield "monkeypatched open"


def toy_run(out: Path, n: int = 12) -> list[str]:
    return ["run", "--model", "tests.toy:HashAdapter", "--tasks", "tests.toy:ToyTask", "--task-args", f"toy:n={n}",
            "--output-dir", str(out), "--no-progress", "--max-error-rate", "1"]


def one_message(err: str) -> None:
    assert err.startswith("error: ") and err.count("error:") == 1 and "Traceback" not in err, err


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.parametrize("where", ["read-only", "under-a-file", "is-a-file"])
def test_item11_an_output_dir_that_cannot_be_written_is_one_message_before_the_model_loads(tmp_path, capsys, where):
    loads = HashAdapter.loads
    with contextlib.ExitStack() as stack:
        if where == "read-only":
            out = stack.enter_context(read_only_dir(tmp_path / "ro")) / "out"
        else:
            (tmp_path / "file").write_text("a regular file\n")
            out = tmp_path / "file" / "out" if where == "under-a-file" else tmp_path / "file"
        assert main(toy_run(out)) == 2
    err = capsys.readouterr().err
    one_message(err)
    assert str(out) in err or str(out.parent) in err, err
    assert HashAdapter.loads == loads  # refused before the model loaded


def test_item11_a_read_only_harness_cache_is_one_message_naming_it(tmp_path, capsys, monkeypatch):
    with read_only_dir(tmp_path / "rocache") as ro:
        monkeypatch.setenv("HARNESS_CACHE", str(ro))
        loads = HashAdapter.loads
        assert main(toy_run(tmp_path / "out")) == 2  # the demo set must be built into the cache
        err = capsys.readouterr().err
        one_message(err)
        assert str(ro) in err and "HARNESS_CACHE" in err, err
        assert HashAdapter.loads == loads
        # a judged task needs the judge's cache: refused before the model loads, even with the data given
        data = tmp_path / "data" / "msvd_qa"
        data.mkdir(parents=True)
        (data / "test_q.json").write_text(json.dumps([{"video_name": "v1", "question_id": "q1", "question": "what?"}]))
        (data / "test_a.json").write_text(json.dumps([{"question_id": "q1", "answer": "a", "type": 3}]))
        assert main(["run", "--model", "tests.toy:HashAdapter", "--tasks", "msvd_qa", "--data-root", str(data.parent),
                     "--output-dir", str(tmp_path / "out2"), "--no-progress", "--max-error-rate", "1"]) == 2
        err = capsys.readouterr().err
        one_message(err)
        assert str(ro) in err and "HARNESS_CACHE" in err, err
        assert HashAdapter.loads == loads


def test_item11_a_disk_that_fills_up_mid_run_is_one_message_and_the_rerun_resumes(tmp_path, capsys, monkeypatch):
    n = 300  # about 150 KiB of records: more than the disk holds
    with full_disk(tmp_path / "disk", monkeypatch) as how:
        out = tmp_path / "disk" / "out"
        assert main(toy_run(out, n)) == 2, how
        err = capsys.readouterr().err
        one_message(err)
        assert "No space left on device" in err and str(out) in err, err
        done = [read_records(p) for p in (out / "samples").glob("toy*.jsonl")]
        assert done and all(isinstance(r["key"], str) for rs in done for r in rs)  # every complete line a record
        kept = (out / "samples" / "toy.rank0.jsonl").read_bytes()
        monkeypatch.undo()
        monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
        # space again (the files move to a disk with room): the rerun keeps what was written and finishes
        moved = tmp_path / "moved"
        (moved / "samples").mkdir(parents=True)
        (moved / "samples" / "toy.rank0.jsonl").write_bytes(kept)
    generated = HashAdapter.generated
    assert main(toy_run(moved, n)) == 0
    assert len(read_records(moved / "samples" / "toy.jsonl")) == n
    assert HashAdapter.generated - generated < n  # the samples written before the disk filled were kept


def test_item11_report_output_to_a_read_only_place_is_one_message(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(toy_run(out, 4)) == 0
    capsys.readouterr()
    with read_only_dir(tmp_path / "ro") as ro:
        for fmt in ("md", "parquet"):
            assert main(["report", str(out), "--format", fmt, "--output", str(ro / f"table.{fmt}")]) == 2
            err = capsys.readouterr().err
            one_message(err)
            assert str(ro / f"table.{fmt}") in err, err


NUL_CASES = {
    # task: (annotation file, its content with a NUL in one video path; the id of the sample hit)
    "mvbench": ("json/action_count.json",
                [{"video": "a\x00b.mp4", "question": "q?", "candidates": ["x", "y"], "answer": "x"},
                 {"video": "ok.mp4", "question": "q?", "candidates": ["x", "y"], "answer": "y"}], "action_count/0000"),
    "perception_test": ("mc_question_valid.json",
                        {"vid\x00eo": {"mc_question": [{"id": 0, "question": "q?", "options": ["a", "b", "c"],
                                                        "answer_id": 0, "area": "memory", "reasoning": "r"}]},
                         "video_1": {"mc_question": [{"id": 0, "question": "q?", "options": ["a", "b", "c"],
                                                      "answer_id": 1, "area": "memory", "reasoning": "r"}]}},
                        "vid\x00eo"),
    "egoschema": ("questions.json",
                  [{"q_uid": "u\x001", "question": "q?", **{f"option {i}": f"o{i}" for i in range(5)}},
                   {"q_uid": "u2", "question": "q?", **{f"option {i}": f"o{i}" for i in range(5)}}], "u\x001"),
    "msvd_qa": ("test_q.json",
                [{"video_name": "v\x001", "question_id": "q1", "question": "what?"},
                 {"video_name": "v2", "question_id": "q2", "question": "what?"}], "q1"),
    "activitynet_qa": ("test_q.json",
                       [{"video_name": "v\x001", "question_id": "q1", "question": "what?"},
                        {"video_name": "v2", "question_id": "q2", "question": "what?"}], "q1"),
    "videochatgpt": ("generic_qa.json",
                     [{"video_name": "v\x001", "Q": "what?", "A": "a"}, {"video_name": "v2", "Q": "what?", "A": "a"}],
                     "generic_qa/0"),
}


def _write_nul_case(task: str, root: Path) -> tuple[Path, str]:
    rel, content, sid = NUL_CASES[task]
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))
    if task == "egoschema":
        (root / "subset_answers.json").write_text(json.dumps({"u\x001": 0, "u2": 1}))
    if task in ("msvd_qa", "activitynet_qa"):
        (root / "test_a.json").write_text(json.dumps([{"question_id": "q1", "answer": "a", "type": 3},
                                                      {"question_id": "q2", "answer": "b", "type": 3}]))
    if task == "videochatgpt":
        for other in ("temporal_qa.json", "consistency_qa.json"):
            (root / other).write_text(json.dumps([{"video_name": "v3", "Q": "w?", "Q1": "a?", "Q2": "b?", "A": "a"}]))
    return path, sid


@pytest.mark.parametrize("task", list(NUL_CASES))
def test_item11_a_nul_byte_in_a_video_path_fails_that_sample_naming_file_and_record(tmp_path, task):
    cls = get_task_class(task)
    path, sid = _write_nul_case(task, tmp_path / task)
    samples = cls(tmp_path / task).load()
    hit = [s for s in samples if s.id == sid]
    assert len(hit) == 1 and hit[0].error, [(s.id, s.error) for s in samples]
    assert str(path) in hit[0].error and "NUL" in hit[0].error, hit[0].error
    assert any(not s.error for s in samples if s.id != sid)  # the others load


def test_item11_a_nul_byte_does_not_stop_the_run(tmp_path, capsys):
    _write_nul_case("mvbench", tmp_path / "data" / "mvbench")
    out = tmp_path / "out"
    assert main(["run", "--model", "oracle", "--tasks", "mvbench", "--data-root", str(tmp_path / "data"),
                 "--output-dir", str(out), "--no-progress", "--max-error-rate", "1"]) == 0
    recs = {r["id"]: r for r in read_records(out / "samples" / "mvbench.jsonl")}
    assert "NUL" in recs["action_count/0000"]["error"] and len(recs) == 2


# -- item 12: a dataset in the Hugging Face hub cache layout --------------------------------------------

VIDEO = Path(__file__).resolve().parents[1] / "data" / "real" / "videos" / "sample_demo_3.mp4"


def hub_dataset(tmp_path: Path) -> tuple[Path, Path, Path]:
    """perception_test as `huggingface_hub` stores it: snapshots/<rev>/ holds symlinks into ../../blobs,
    and --data-root's perception_test/ links to the snapshot. video_2 links out of the hub altogether.
    Returns (data root, the hub repo folder, the annotation file as the task reads it)."""
    repo = tmp_path / "hub" / "datasets--deepmind--perception_test"
    blobs, snap = repo / "blobs", repo / "snapshots" / "0123abcd"
    (snap / "videos").mkdir(parents=True)
    blobs.mkdir()
    (blobs / "9f1c").write_bytes(VIDEO.read_bytes())
    questions = {f"video_{i}": {"mc_question": [{"id": 0, "question": "what?", "options": ["a", "b", "c"],
                                                 "answer_id": i, "area": "memory", "reasoning": "r"}]}
                 for i in range(3)}
    (blobs / "77aa").write_text(json.dumps(questions))
    (snap / "mc_question_valid.json").symlink_to("../../blobs/77aa")
    for i in range(2):
        (snap / "videos" / f"video_{i}.mp4").symlink_to("../../../blobs/9f1c")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.mp4").write_bytes(VIDEO.read_bytes())
    (snap / "videos" / "video_2.mp4").symlink_to(elsewhere / "x.mp4")
    data = tmp_path / "data"
    data.mkdir()
    (data / "perception_test").symlink_to(snap)
    return data, repo, data / "perception_test" / "mc_question_valid.json"


def test_item12_a_hub_cache_dataset_reads_with_allow_root_and_links_out_of_every_root_stay_refused(tmp_path, capsys):
    data, repo, ann = hub_dataset(tmp_path)
    args = ["run", "--model", "oracle", "--tasks", "perception_test", "--data-root", str(data), "--no-progress",
            "--max-error-rate", "1"]
    # without --allow-root: refused, and the message says which link points where, and how to allow it
    assert main([*args, "--output-dir", str(tmp_path / "o1")]) == 0
    recs = {r["id"]: r for r in read_records(tmp_path / "o1" / "samples" / "perception_test.jsonl")}
    err = recs["video_0"]["error"] or ""  # a video that cannot be read fails all its questions: one error sample
    link = data / "perception_test" / "videos" / "video_0.mp4"
    assert "escapes the data root" in err and f"{link} is a symlink to ../../../blobs/9f1c" in err, err
    assert f"--allow-root {repo}" in err, err
    # with it: every video inside the hub repo reads; the one linked out of every allowed root is still refused
    assert main([*args, "--allow-root", str(repo), "--output-dir", str(tmp_path / "o2")]) == 0
    recs = {r["id"]: r for r in read_records(tmp_path / "o2" / "samples" / "perception_test.jsonl")}
    assert recs["video_0_0"]["state"] == recs["video_1_0"]["state"] == "scored", recs
    assert recs["video_0_0"]["correct"] and recs["video_1_0"]["correct"]
    err = recs["video_2"]["error"] or ""
    assert recs["video_2"]["state"] == "error" and f"is a symlink to {tmp_path / 'elsewhere' / 'x.mp4'}" in err, err
    assert str(ann) in err and "--allow-root" in err, err
