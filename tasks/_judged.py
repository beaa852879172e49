"""Shared pieces of the open-ended, GPT-judged tasks (ActivityNet-QA, MSVD-QA, Video-ChatGPT).

The question/answer layout (`*_q.json` + `*_a.json`, aligned by question_id) is read here once;
each task module says where its videos live. Also: the yes/no + 0-5 judged task base class, its
metric, video lookup by probing a folder listing, and the synthetic-scene demo helpers.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from harness.errors import DataError
from harness.judge import JudgeItem, Verdict
from harness.paths import safe_join
from harness.scoring import bootstrap_ci
from harness.task import Task
from harness.types import Frames, MediaRef, Parsed, Sample

from ._mcq import BadRecord, Collector, need, need_records, read_json

QA_JUDGE = "activitynet_qa.txt"  # the seed judges MSVD-QA with the same script
JUDGE_DEFAULT = {"provider": "openai", "model": "gpt-3.5-turbo-0125", "temperature": 0}
VIDEO_EXTS = (".mp4", ".webm", ".avi", ".mov", ".mkv")
NUMBER_WORDS = ["zero", "one", "two", "three", "four"]

VideoFinder = Callable[[str, str, str], MediaRef]  # (video_name, annotation file, record) -> media


def read_list(path: Path) -> list[Any]:
    """A JSON annotation file that must hold a list (DataError naming it otherwise)."""
    data = read_json(path)
    if not isinstance(data, list):
        raise DataError(f"expected a JSON list of records, found a {type(data).__name__}", file=str(path))
    return need_records(data, path)


def load_qa_pairs(task: str, root: Path, q_name: str, a_name: str, video_of: VideoFinder) -> list[Sample]:
    """`q_name` + `a_name` (aligned by question_id) -> samples in question order. A bad record (missing
    field, no answer, duplicate id, path escape) is a sample with `error` naming file and record."""
    q_file, a_file = root / q_name, root / a_name
    questions, answers = read_list(q_file), read_list(a_file)
    by_id: dict[str, dict[str, Any]] = {}
    for a in answers:
        if isinstance(a, dict) and a.get("question_id") is not None:
            by_id.setdefault(str(a["question_id"]), a)
    out = Collector(task)
    for i, q in enumerate(questions):
        where, sid = f"#{i}", f"{task}-record-{i}"
        try:
            qid = sid = str(need(q, "question_id", (str, int)))  # a bad record keeps its id when it has one
            where = f"#{i} ({qid})"
            name, question = need(q, "video_name"), need(q, "question")
            a = by_id.get(qid)
            if a is None:
                raise BadRecord(f"no answer with question_id {qid!r} in {a_file.name}")
            answer = str(need(a, "answer", (str, int, float)))
            media = video_of(name, str(q_file), where)
            out.add(Sample(qid, task, media, question, None, answer, meta={"video_name": name, "type": a.get("type")}),
                    q_file, where)
        except (BadRecord, DataError) as e:
            out.bad(sid, e, q_file, where)
    return out.samples


def video_finder(root: Path, folder: str, stems: tuple[str, ...], exts: tuple[str, ...]) -> VideoFinder:
    """Finds `root/folder/<stem>.<ext>` by probing one listing of the folder: stat + realpath of 10
    candidates for each of 8,000 questions took 13 s. A plain file name that is not a symlink cannot
    leave the folder, so only other names (`../x`, symlinks) go through safe_join's realpath check.
    A video found nowhere is reported at the first path the layout expects."""
    base = root / folder
    listing = {e.name: e.is_symlink() for e in os.scandir(base)} if base.is_dir() else {}
    base_real = safe_join(root, folder) if base.is_dir() else base

    def find(name: str, file: str, record: str) -> MediaRef:
        plain = "/" not in name and "\\" not in name and "\x00" not in name and name not in (".", "..")
        first: Path | None = None
        for stem in stems:
            rel = stem.format(name=name)
            if not plain:  # raises, naming file and record, when the path escapes the root
                safe_join(root, f"{folder}/{rel}{exts[0]}", file=file, record=record)
            first = first or base_real / f"{rel}{exts[0]}"
            for ext in exts:
                link = listing.get(f"{rel}{ext}")
                if link is None:
                    continue
                if link or not plain:
                    return MediaRef(str(safe_join(root, f"{folder}/{rel}{ext}", file=file, record=record)), "video")
                return MediaRef(str(base_real / f"{rel}{ext}"), "video")
        assert first is not None
        return MediaRef(str(first), "video")
    return find


def text_answer(prediction: str | None) -> Parsed:
    """An open-ended answer: the reply without surrounding whitespace (kept for exact-match metrics;
    the judge sees the reply itself), or unparsed when empty."""
    text = (prediction or "").strip()
    return Parsed(text or None, "text" if text else "none")


def judge_record(v: Verdict) -> dict[str, Any]:
    """What a record keeps of one verdict: the answer, or why there is none, and its provenance."""
    return {"data": v.data, "reason": v.reason, "model": v.model, "cached": v.cached, "template_hash": v.template_hash}


def judged_accuracy(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Share of 'yes' and mean 0-5 score over judged records. Error records (bad video or annotation)
    count as 'no' (the benchmark's denominator); unscored records are left out and counted apart."""
    judged = [r for r in records if r.get("state") in ("scored", "error")]
    yes = [1.0 if r.get("correct") else 0.0 for r in judged]
    scores = [float(r["score"]) for r in judged if r.get("state") == "scored" and r.get("score") is not None]
    return {"accuracy": round(float(np.mean(yes)), 6) if yes else None, "accuracy_ci": bootstrap_ci(yes),
            "score": round(float(np.mean(scores)), 6) if scores else None, "score_ci": bootstrap_ci(scores)}


class OpenQATask(Task):
    """ActivityNet-QA / MSVD-QA: short answers, judged yes/no + 0-5 by the shared judge."""

    scoring = "judge"
    judge_default: ClassVar[dict[str, Any]] = JUDGE_DEFAULT

    def prompt(self, sample: Sample, frames: Frames | None = None) -> str:
        return self.template().fill("instruction", question=sample.question)

    def parse(self, sample: Sample, prediction: str) -> Parsed:
        return text_answer(prediction)

    def judge_items(self, record: dict[str, Any]) -> list[JudgeItem]:
        return [JudgeItem(QA_JUDGE, {"question": record.get("question") or "", "answer": record.get("target") or "",
                                     "prediction": (record.get("prediction") or "").strip()})]

    def apply_verdicts(self, record: dict[str, Any], verdicts: list[Verdict]) -> None:
        v = verdicts[0] if verdicts else Verdict(None, "no verdict")
        record["judge"] = judge_record(v)
        if v.data is None:
            record["state"], record["correct"], record["score"] = "unscored", None, None
        else:
            record["state"], record["correct"], record["score"] = "scored", v.data["pred"] == "yes", v.data["score"]

    def aggregate(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return judged_accuracy(records)


# -- demo sets ---------------------------------------------------------------------------------------
def scenes(seed: int, n: int) -> list[Any]:
    """n synthetic scenes (colour, shape, count 1-4, direction; no changes mid-clip, so every
    question below has one true answer)."""
    from harness import synth

    rng = random.Random(seed)
    return [synth.random_scene(rng) for _ in range(n)]


def plural(shape: str, count: int) -> str:
    return shape if count == 1 else f"{shape}s"


def other_direction(spec: Any, rng: random.Random) -> str:
    return rng.choice([d for d in ("left", "right", "up", "down") if d != spec.direction])


def write_avi(spec: Any, path: Path, fps: int = 8) -> None:
    """MSVD ships .avi: MPEG-4 part 2 in an AVI container, via PyAV."""
    import av

    from harness import synth

    frames = synth.render_frames(spec, fps=fps)
    with av.open(str(path), "w", format="avi") as out:
        stream = out.add_stream("mpeg4", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.codec_context.thread_count = 1  # reproducible bytes
        for f in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        out.mux(stream.encode())
