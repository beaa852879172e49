"""Video-ChatGPT generative benchmark (VCGBench; Maaz et al., ACL 2024): five GPT-judged qualities.

Dataset: the Video-ChatGPT quantitative-evaluation set. Files: `generic_qa.json` [{Q, A,
video_name}] (1,996), `temporal_qa.json` (499), `consistency_qa.json` [{Q1, Q2, A, video_name}]
(499); videos `Test_Videos/<video_name>.mp4`. Splits: generic, temporal, consistency, or `all`
(default: the three files, `subset` = which one). Ids `<file stem>/<index>`, e.g. `generic_qa/17`.
Judge (shared; one 0-5 score per template): correctness, detail orientation, contextual
understanding (each generic record: 3 judgements), temporal understanding (temporal records),
consistency (consistency records). A consistency sample is ONE sample asked twice: `prompt()` is
Q1, `extra_prompts()` returns [Q2]; the runner stores the second answer as
`record["extra_predictions"][0]` (`meta["prediction2"]` is read as well, for hand-built records).
Metric: mean score per quality over records whose judgements all parsed, and the mean of the
five. Judge default: gpt-3.5-turbo-0125 at temperature 0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from harness.errors import DataError
from harness.judge import JudgeItem, Verdict
from harness.paths import safe_join
from harness.scoring import bootstrap_ci
from harness.task import Task
from harness.types import Frames, MediaRef, Parsed, Sample

from ._judged import JUDGE_DEFAULT, judge_record, plural, read_list, scenes, text_answer
from ._mcq import BadRecord, Collector, need

FILES = {"generic": "generic_qa.json", "temporal": "temporal_qa.json", "consistency": "consistency_qa.json"}
DIMENSIONS = {"generic": ("correctness", "detail", "context"), "temporal": ("temporal",),
              "consistency": ("consistency",)}
ALL_DIMENSIONS = tuple(d for dims in DIMENSIONS.values() for d in dims)
# The judge messages of the seed's eval_video_oqa_vcgpt_{1..5}_*.py, one file per quality.
JUDGE_FILES = {"correctness": "vcgpt_1_correctness.txt", "detail": "vcgpt_2_detail.txt",
               "context": "vcgpt_3_context.txt", "temporal": "vcgpt_4_temporal.txt",
               "consistency": "vcgpt_5_consistency.txt"}
DEMO_SEED = 9


def second_answer(record: dict[str, Any]) -> str | None:
    extra = record.get("extra_predictions") or []
    value = extra[0] if extra else (record.get("meta") or {}).get("prediction2")
    return value if isinstance(value, str) else None


class VideoChatGPT(Task):
    name: ClassVar[str] = "videochatgpt"
    scoring = "judge"
    splits: ClassVar[dict[str, bool]] = {"all": True, "generic": True, "temporal": True, "consistency": True}
    default_split: ClassVar[str] = "all"
    prompt_file = "videochatgpt.txt"
    judge_default: ClassVar[dict[str, Any]] = JUDGE_DEFAULT

    def load(self) -> list[Sample]:
        out = Collector(self.name)
        for subset in FILES if self.split == "all" else (self.split,):
            path = self.root / FILES[subset]
            for i, rec in enumerate(read_list(path)):
                sid, where = f"{path.stem}/{i}", f"#{i}"
                try:
                    name = need(rec, "video_name")
                    meta = {"video_name": name}
                    if subset == "consistency":
                        question, meta["question2"] = need(rec, "Q1"), need(rec, "Q2")
                    else:
                        question = need(rec, "Q")
                    video = safe_join(self.root, f"Test_Videos/{name}.mp4", file=str(path), record=where)
                    out.add(Sample(sid, self.name, MediaRef(str(video), "video"), question, None, need(rec, "A"),
                                   subset, meta), path, where)
                except (BadRecord, DataError) as e:
                    out.bad(sid, e, path, where, subset=subset)
        return out.samples

    def prompt(self, sample: Sample, frames: Frames | None = None) -> str:
        return self.template().fill("instruction", question=sample.question)

    def extra_prompts(self, sample: Sample, frames: Frames | None = None) -> list[str]:
        q2 = sample.meta.get("question2")
        return [self.template().fill("instruction", question=q2)] if q2 else []

    def parse(self, sample: Sample, prediction: str) -> Parsed:
        return text_answer(prediction)

    def judge_items(self, record: dict[str, Any]) -> list[JudgeItem]:
        """One item per quality of the record's subset; none for a consistency record without its
        second answer (apply_verdicts then leaves it unscored with that reason)."""
        subset = record.get("subset") or "generic"
        fields = {"question": record.get("question") or "", "answer": record.get("target") or "",
                  "prediction": (record.get("prediction") or "").strip()}
        if subset == "consistency":
            second = second_answer(record)
            if second is None:
                return []
            fields |= {"question2": (record.get("meta") or {}).get("question2") or "", "prediction2": second.strip()}
        return [JudgeItem(JUDGE_FILES[dim], fields) for dim in DIMENSIONS.get(subset, ())]

    def apply_verdicts(self, record: dict[str, Any], verdicts: list[Verdict]) -> None:
        dims = DIMENSIONS.get(record.get("subset") or "generic", ())
        record["correct"] = None
        if len(verdicts) != len(dims):
            reason = "no answer to the second question" if record.get("subset") == "consistency" else "no verdicts"
            record["state"], record["score"], record["judge"] = "unscored", None, {"reason": reason}
            return
        record["judge"] = {d: judge_record(v) for d, v in zip(dims, verdicts)}
        # Every quality of a record or none: a record half-judged is unscored (its parsed qualities
        # stay in `judge`), so each quality's mean is over the same records.
        if all(v.data is not None for v in verdicts):
            record["state"], record["score"] = "scored", {d: v.data["score"] for d, v in zip(dims, verdicts)}
        else:
            record["state"], record["score"] = "unscored", None

    def aggregate(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for d in ALL_DIMENSIONS:
            vals = [float(r["score"][d]) for r in records
                    if r.get("state") == "scored" and isinstance(r.get("score"), dict) and d in r["score"]]
            out[d] = round(float(np.mean(vals)), 6) if vals else None
            out[f"{d}_ci"], out[f"{d}_n"] = bootstrap_ci(vals), len(vals)
        present = [out[d] for d in ALL_DIMENSIONS if out[d] is not None]
        out["mean_score"] = round(float(np.mean(present)), 6) if present else None
        return out

    @classmethod
    def build_demo(cls, root: Path) -> None:
        """8 synthetic videos, each with one generic, one temporal and one consistency question
        (24 samples) in the official layout; reference answers true of the scene."""
        from harness import synth

        (root / "Test_Videos").mkdir(parents=True, exist_ok=True)
        generic, temporal, consistency = [], [], []
        for v, spec in enumerate(scenes(DEMO_SEED, 8)):
            name = f"v_demo{v}"
            synth.write_mp4(spec, root / "Test_Videos" / f"{name}.mp4")
            things = f"{spec.count} {spec.color} {plural(spec.shape, spec.count)}"
            generic.append({"Q": "What is happening in the video?",
                            "A": f"The video shows {things} moving {spec.direction} over a dark background.",
                            "video_name": name})
            temporal.append({"Q": "How do the positions of the shapes change from the start of the video to the end?",
                             "A": f"The {plural(spec.shape, spec.count)} move steadily {spec.direction}.",
                             "video_name": name})
            consistency.append({"Q1": "How many shapes are in the video, and what color are they?",
                                "Q2": "Can you count the objects in the video and name their color?",
                                "A": f"There are {things}.", "video_name": name})
        for fname, data in zip(FILES.values(), (generic, temporal, consistency)):
            (root / fname).write_text(json.dumps(data, indent=2))
