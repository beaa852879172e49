"""ActivityNet-QA (Yu et al. 2019): open-ended QA on ActivityNet videos, test split 8,000 questions.

Files (official MILVLG release): `test_q.json` [{video_name, question, question_id}], `test_a.json`
[{answer, type 0-8, question_id}] (and val_q/val_a); videos `all_test/v_<video_name>.<ext>` or
without the `v_` prefix, ext mp4/webm/avi/mov/mkv. Metric: GPT judge (yes/no + 0-5) -> accuracy and
average score; also the official repo's exact-match accuracy, overall and per answer type.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, ClassVar

from harness.scoring import grouped

from ._judged import DEMO_SEED, OpenQATask, demo_questions, judged_accuracy, load_qa_pairs, video_under

TYPES = {0: "motion", 1: "spatial", 2: "temporal", 3: "yes_no", 4: "color", 5: "object", 6: "location",
         7: "number", 8: "other"}
EXTS = (".mp4", ".webm", ".avi", ".mov", ".mkv")


def normalise(text: str | None) -> str:
    return " ".join((text or "").strip().lower().rstrip(".").split())


def exact_match_accuracy(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The official scorer's rule: prediction string == answer string (we normalise case/space)."""
    # scored records carry `parsed` (the stripped prediction; full predictions are not kept in memory)
    hits = [normalise(r["parsed"] if "parsed" in r else r.get("prediction")) == normalise(r.get("target"))
            for r in records if not r.get("error")]
    return {"accuracy_exact": round(sum(hits) / len(hits), 6) if hits else None}


class ActivityNetQA(OpenQATask):
    name: ClassVar[str] = "activitynet_qa"
    splits: ClassVar[dict[str, bool]] = {"test": True, "val": True}

    def load(self):
        return load_qa_pairs(self.name, self.root, f"{self.split}_q.json", f"{self.split}_a.json",
                             video_under(self.root, "all_test", ("v_{name}", "{name}"), EXTS))

    def aggregate(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        def type_of(r: dict[str, Any]) -> str | None:
            t = (r.get("meta") or {}).get("type")
            return TYPES.get(int(t)) if isinstance(t, int) or (isinstance(t, str) and t.isdigit()) else None

        return {**judged_accuracy(records), **exact_match_accuracy(records),
                "by_type": grouped(records, type_of, lambda rs: {**judged_accuracy(rs), **exact_match_accuracy(rs)})}

    @classmethod
    def build_demo(cls, root: Path) -> None:
        from harness import synth

        import json

        rng = random.Random(DEMO_SEED)
        (root / "all_test").mkdir(parents=True, exist_ok=True)
        qs, ans = [], []
        for v in range(6):
            spec = synth.random_scene(rng)
            name = f"demo{v:03d}"
            synth.write_mp4(spec, root / "all_test" / f"v_{name}.mp4")
            for j, (q, a, t) in enumerate(demo_questions(rng, spec)):
                qid = f"v_{name}_{j}"
                qs.append({"video_name": name, "question": q, "question_id": qid})
                ans.append({"answer": a, "type": t, "question_id": qid})
        (root / "test_q.json").write_text(json.dumps(qs))
        (root / "test_a.json").write_text(json.dumps(ans))
