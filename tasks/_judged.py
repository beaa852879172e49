"""Shared pieces of the open-ended, GPT-judged tasks (ActivityNet-QA, MSVD-QA, Video-ChatGPT).

The Video-ChatGPT/Video-LLaVA question-answer layout (`test_q.json` + `test_a.json`, aligned
by question_id) is read here once; each task module says where its videos live.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np

from harness.errors import DataError
from harness.judge import JudgeItem, Verdict
from harness.paths import safe_join
from harness.scoring import bootstrap_ci
from harness.task import Task
from harness.types import MediaRef, Parsed, Sample

from ._mcq import BadRecord, Collector, need, read_json, render

QA_JUDGE = "qa_yes_no_v1.txt"
DEMO_SEED = 7


def load_qa_pairs(task: str, root: Path, q_name: str, a_name: str,
                  video_of: Callable[[str, str, str], MediaRef]) -> list[Sample]:
    """test_q.json + test_a.json -> samples; `video_of(video_name, file, record)` finds the video."""
    q_file, a_file = root / q_name, root / a_name
    questions, answers = read_json(q_file), read_json(a_file)
    by_id: dict[str, dict[str, Any]] = {}
    for a in answers if isinstance(answers, list) else []:
        if isinstance(a, dict) and "question_id" in a:
            by_id.setdefault(str(a["question_id"]), a)
    out = Collector(task)
    for i, q in enumerate(questions if isinstance(questions, list) else []):
        where = f"#{i}"
        try:
            qid = str(need(q, "question_id"))
            where = f"#{i} ({qid})"
            name, question = str(need(q, "video_name")), str(need(q, "question"))
            a = by_id.get(qid)
            if a is None:
                raise BadRecord(f"no answer with question_id {qid!r} in {a_file.name}")
            answer = str(need(a, "answer"))
            media = video_of(name, str(q_file), where)
            out.add(Sample(qid, task, media, question, None, answer, subset=str(a.get("type", "")) or None,
                           meta={"video_name": name, "type": a.get("type")}), q_file, where)
        except (ValueError, TypeError, KeyError, DataError) as e:  # a bad record is that sample's error
            out.bad(f"{task}-record-{i}", e, q_file, where)
    return out.samples


def judged_accuracy(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Share of 'yes' among judged samples (errors count as no), mean 0-5 score; unscored apart."""
    judged = [r for r in records if r.get("state") in ("scored", "error")]
    yes = [1.0 if r.get("correct") else 0.0 for r in judged]
    scores = [float(r["score"]) for r in judged if r.get("state") == "scored" and r.get("score") is not None]
    return {"accuracy": round(float(np.mean(yes)), 6) if yes else None, "accuracy_ci": bootstrap_ci(yes),
            "score": round(float(np.mean(scores)), 6) if scores else None, "score_ci": bootstrap_ci(scores)}


class OpenQATask(Task):
    """ActivityNet-QA / MSVD-QA: short answers, judged yes/no + 0-5 by the shared judge."""

    scoring = "judge"
    prompt_file = "open_qa.txt"
    judge_default: ClassVar[dict[str, Any]] = {"provider": "openai", "model": "gpt-3.5-turbo-0125", "temperature": 0}
    gen_kwargs: ClassVar[dict[str, Any]] = {"max_new_tokens": 32}

    def prompt(self, sample: Sample) -> str:
        return render(self.template(), question=sample.question)

    def parse(self, sample: Sample, prediction: str) -> Parsed:
        text = (prediction or "").strip()
        return Parsed(text or None, "text" if text else "none")

    def judge_items(self, record: dict[str, Any]) -> list[JudgeItem]:
        return [JudgeItem(QA_JUDGE, {"question": record.get("question") or "", "answer": record.get("target") or "",
                                     "prediction": record.get("prediction") or ""})]

    def apply_verdicts(self, record: dict[str, Any], verdicts: list[Verdict]) -> None:
        v = verdicts[0]
        record["judge"] = {"data": v.data, "reason": v.reason, "model": v.model, "cached": v.cached}
        if v.data is None:
            record["state"], record["correct"], record["score"] = "unscored", None, None
        else:
            record["state"], record["correct"], record["score"] = "scored", v.data["pred"] == "yes", v.data["score"]

    def aggregate(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return judged_accuracy(records)


def demo_questions(rng: random.Random, spec: Any) -> list[tuple[str, str, int]]:
    """(question, short answer, ActivityNet answer type) that are true of a synthetic scene."""
    words = ["zero", "one", "two", "three", "four"]
    return [(f"what colour are the {spec.shape}s", spec.color, 4),
            ("how many shapes are there", words[spec.count], 7),
            (f"are the shapes moving {spec.direction}", "yes", 3),
            (f"are the shapes moving {rng.choice([d for d in ('left', 'right', 'up', 'down') if d != spec.direction])}",
             "no", 3)]


def video_under(root: Path, folder: str, stems: tuple[str, ...], exts: tuple[str, ...]) -> Callable[[str, str, str], MediaRef]:
    """A video finder for `root/folder/<prefix><name>.<ext>`: the first that exists, else the
    first candidate (so a missing video is reported with the path the layout expects)."""
    def find(name: str, file: str, record: str) -> MediaRef:
        first = None
        for stem in stems:
            for ext in exts:
                p = safe_join(root, f"{folder}/{stem.format(name=name)}{ext}", file=file, record=record)
                first = first or p
                if p.exists():
                    return MediaRef(str(p), "video")
        return MediaRef(str(first), "video")
    return find
