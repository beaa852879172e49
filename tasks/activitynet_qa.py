"""ActivityNet-QA (Yu et al., AAAI 2019): open-ended questions about ActivityNet videos.

Dataset: the official MILVLG/activitynet-qa release. Splits: `test` (8,000 questions, default)
and `val` (18,000). Files: `<split>_q.json` [{video_name, question, question_id}] and
`<split>_a.json` [{answer, type 0-8, question_id}], aligned by question_id; videos
`all_test/v_<video_name>.<ext>` or without the `v_` prefix, ext mp4/webm/avi/mov/mkv (found by
probing the folder at load). Metric: the shared GPT judge (template qa_yes_no_v1: yes/no + 0-5)
-> accuracy (share of yes) and average score; also, without a judge, the official repo's exact
match (evaluation/eval.py: prediction string == answer string) overall and per question type
(motion, spatial, temporal, free = types 3-8) and answer type. Judge default: gpt-3.5-turbo-0125
at temperature 0 (the seed used Azure GPT-3.5 at 0.7, so its re-judging drifted).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, ClassVar

from harness.scoring import bootstrap_ci
from harness.task import Option
from harness.types import Sample

from ._judged import (
    VIDEO_EXTS,
    OpenQATask,
    judged_accuracy,
    load_qa_pairs,
    other_direction,
    plural,
    scenes,
    text_answer,
    video_finder,
)

TYPES = {0: "motion", 1: "spatial", 2: "temporal", 3: "yes_no", 4: "color", 5: "object", 6: "location",
         7: "number", 8: "other"}
FREE = {3, 4, 5, 6, 7, 8}  # the official "Free" group: every answer type that is not a relation type
DEMO_SEED = 7


def answer_type(record: dict[str, Any]) -> int | None:
    t = (record.get("meta") or {}).get("type")
    if isinstance(t, str) and t.isdigit():
        t = int(t)
    return t if isinstance(t, int) and not isinstance(t, bool) and t in TYPES else None


def _text(record: dict[str, Any]) -> str:
    # scored records carry `parsed` (the stripped prediction); hand-built ones only `prediction`
    value = record["parsed"] if "parsed" in record else record.get("prediction")
    return (value or "").strip()


def _normalised(text: str) -> str:
    return " ".join(text.lower().rstrip(".!").split())


def exact_match_accuracy(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The official scorer's rule, prediction == answer, over every record (a missing or errored
    prediction counts as wrong, as in eval.py's per-type denominators). `accuracy_exact_normalised`
    also forgives case, spacing and a final full stop, for chatty models (not the official number)."""
    if not records:
        return {"accuracy_exact": None, "accuracy_exact_normalised": None}
    hits = [_text(r) == (r.get("target") or "") for r in records]
    loose = [_normalised(_text(r)) == _normalised(r.get("target") or "") for r in records]
    return {"accuracy_exact": round(sum(hits) / len(hits), 6),
            "accuracy_exact_normalised": round(sum(loose) / len(loose), 6)}


def by_type(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Judged and exact-match accuracy per question type and answer type, as eval.py prints them."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        t = answer_type(r)
        if t is None:
            continue
        groups.setdefault(TYPES[t], []).append(r)
        if t in FREE:
            groups.setdefault("free", []).append(r)
    out = {}
    for name, rs in sorted(groups.items()):
        judged = judged_accuracy(rs)
        out[name] = {"accuracy": judged["accuracy"], "score": judged["score"],
                     "accuracy_exact": exact_match_accuracy(rs)["accuracy_exact"], "n": len(rs)}
    return out


class ActivityNetQA(OpenQATask):
    name: ClassVar[str] = "activitynet_qa"
    splits: ClassVar[dict[str, bool]] = {"test": True, "val": True}
    default_split: ClassVar[str] = "test"
    prompt_file = "activitynet_qa.txt"

    option_specs: ClassVar[dict[str, Option]] = {
        "scoring": Option(str, "judge", "judge: the seed's GPT judge; exact: the dataset's own exact-match accuracy, "
                                        "no judge (a deviation)", ("judge", "exact")),
    }

    def __init__(self, root: Path, split: str | None = None, options: dict[str, Any] | None = None):
        super().__init__(root, split, options)
        # `exact` is ActivityNet-QA's original metric: no judge is built or asked, and `accuracy`
        # is the exact-match accuracy, so gates and paired tests work without credentials.
        self.scoring = "exact" if self.option("scoring") == "exact" else "judge"

    def deviations(self) -> list[str]:
        out = super().deviations()
        if self.scoring == "exact":
            out.append("scored by the dataset's exact match, not the seed's GPT judge (scoring=exact)")
        return out

    def score_record(self, rec: dict[str, Any]) -> None:
        """Exact-match mode only (judge mode never calls it): the official strict rule per record."""
        answer = text_answer(rec.get("prediction"))
        rec["parsed"], rec["rule"] = answer.answer, answer.rule
        rec["state"], rec["correct"] = (("scored", answer.answer == (rec.get("target") or "")) if answer.answer
                                        else ("unparsed", False))

    def load(self) -> list[Sample]:
        return load_qa_pairs(self.name, self.root, f"{self.split}_q.json", f"{self.split}_a.json",
                             video_finder(self.root, "all_test", ("v_{name}", "{name}"), VIDEO_EXTS))

    def aggregate(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        exact = exact_match_accuracy(records)
        if self.scoring == "exact":
            hits = [1.0 if r.get("correct") else 0.0 for r in records]
            return {"accuracy": exact["accuracy_exact"], "accuracy_ci": bootstrap_ci(hits), **exact,
                    "by_type": by_type(records)}
        return {**judged_accuracy(records), **exact, "by_type": by_type(records)}

    @classmethod
    def build_demo(cls, root: Path) -> None:
        """6 synthetic videos x 4 questions in the official layout, answers in ActivityNet's style
        (lower case, digits for numbers), one question of each of four answer types."""
        from harness import synth

        rng = random.Random(DEMO_SEED)
        (root / "all_test").mkdir(parents=True, exist_ok=True)
        qs, ans = [], []
        for v, spec in enumerate(scenes(DEMO_SEED, 6)):
            name = f"demo{v:03d}"
            synth.write_mp4(spec, root / "all_test" / f"v_{name}.mp4")
            things = plural(spec.shape, spec.count)
            asked = spec.direction if v % 2 else other_direction(spec, rng)  # half yes, half no
            items = [(f"what color {'is' if spec.count == 1 else 'are'} the {things}", spec.color, 4),
                     (f"how many {plural(spec.shape, 2)} are there", str(spec.count), 7),
                     (f"which direction {'does' if spec.count == 1 else 'do'} the {things} move", spec.direction, 0),
                     (f"{'is' if spec.count == 1 else 'are'} the {things} moving {asked}",
                      "yes" if asked == spec.direction else "no", 3)]
            for j, (q, a, t) in enumerate(items):
                qid = f"v_{name}_{j}"
                qs.append({"video_name": name, "question": q, "question_id": qid})
                ans.append({"answer": a, "type": t, "question_id": qid})
        (root / "test_q.json").write_text(json.dumps(qs, indent=1))
        (root / "test_a.json").write_text(json.dumps(ans, indent=1))
