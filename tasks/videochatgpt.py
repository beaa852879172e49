"""Video-ChatGPT generative benchmark (VCGBench, Maaz et al. 2023): five GPT-judged qualities.

Files: `generic_qa.json` [{Q, A, video_name}] (1,996), `temporal_qa.json` (499), `consistency_qa.json`
[{Q1, Q2, A, video_name}] (499); videos `Test_Videos/<video_name>.mp4`. Splits: generic, temporal,
consistency, or all (default). Judge: correctness, detail orientation, contextual understanding
(generic), temporal understanding (temporal), consistency (Q1/Q2 answers) -> mean 0-5 scores and
their mean. A consistency sample is asked both questions; the second answer is `extra_predictions[0]`.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from harness.errors import DataError
from harness.judge import JudgeItem, Verdict
from harness.paths import safe_join
from harness.scoring import bootstrap_ci
from harness.task import Task
from harness.types import MediaRef, Parsed, Sample

from ._judged import DEMO_SEED, demo_questions
from ._mcq import BadRecord, Collector, need, read_json, render

FILES = {"generic": "generic_qa.json", "temporal": "temporal_qa.json", "consistency": "consistency_qa.json"}
DIMENSIONS = {"generic": ("correctness", "detail", "context"), "temporal": ("temporal",), "consistency": ("consistency",)}


class VideoChatGPT(Task):
    name: ClassVar[str] = "videochatgpt"
    scoring = "judge"
    splits: ClassVar[dict[str, bool]] = {"all": True, "generic": True, "temporal": True, "consistency": True}
    default_split: ClassVar[str] = "all"
    prompt_file = "videochatgpt.txt"
    judge_default: ClassVar[dict[str, Any]] = {"provider": "openai", "model": "gpt-3.5-turbo-0125", "temperature": 0}
    gen_kwargs: ClassVar[dict[str, Any]] = {"max_new_tokens": 256}

    def load(self) -> list[Sample]:
        out = Collector(self.name)
        for subset in (FILES if self.split == "all" else [self.split]):
            path = self.root / FILES[subset]
            for i, rec in enumerate(read_json(path)):
                sid, where = f"{subset}/{i:04d}", f"#{i}"
                try:
                    name = str(need(rec, "video_name"))
                    question = str(need(rec, "Q1" if subset == "consistency" else "Q"))
                    meta = {"video_name": name}
                    if subset == "consistency":
                        meta["question2"] = str(need(rec, "Q2"))
                    video = safe_join(self.root, f"Test_Videos/{name}.mp4", file=str(path), record=where)
                    out.add(Sample(sid, self.name, MediaRef(str(video), "video"), question, None,
                                   str(need(rec, "A")), subset, meta), path, where)
                except (BadRecord, DataError, TypeError) as e:
                    out.bad(sid, e, path, where, subset=subset)
        return out.samples

    def prompt(self, sample: Sample) -> str:
        return render(self.template(), question=sample.question)

    def extra_prompts(self, sample: Sample) -> list[str]:
        q2 = sample.meta.get("question2")
        return [render(self.template(), question=q2)] if q2 else []

    def parse(self, sample: Sample, prediction: str) -> Parsed:
        text = (prediction or "").strip()
        return Parsed(text or None, "text" if text else "none")

    def judge_items(self, record: dict[str, Any]) -> list[JudgeItem]:
        fields = {"question": record.get("question") or "", "answer": record.get("target") or "",
                  "prediction": record.get("prediction") or ""}
        subset = record.get("subset") or "generic"
        if subset == "consistency":
            extra = record.get("extra_predictions") or [""]
            fields |= {"question2": (record.get("meta") or {}).get("question2", ""), "prediction2": extra[0]}
        return [JudgeItem(f"vcg_{dim}_v1.txt", fields) for dim in DIMENSIONS.get(subset, ())]

    def apply_verdicts(self, record: dict[str, Any], verdicts: list[Verdict]) -> None:
        dims = DIMENSIONS.get(record.get("subset") or "generic", ())
        record["judge"] = {d: {"data": v.data, "reason": v.reason, "model": v.model, "cached": v.cached}
                           for d, v in zip(dims, verdicts)}
        record["correct"] = None
        if all(v.data is not None for v in verdicts):
            record["state"] = "scored"
            record["score"] = {d: v.data["score"] for d, v in zip(dims, verdicts)}
        else:
            record["state"], record["score"] = "unscored", None

    def aggregate(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for dims in DIMENSIONS.values():
            for d in dims:
                vals = [float(r["score"][d]) for r in records
                        if r.get("state") == "scored" and isinstance(r.get("score"), dict) and d in r["score"]]
                out[d] = round(float(np.mean(vals)), 6) if vals else None
                out[f"{d}_ci"] = bootstrap_ci(vals)
        present = [out[d] for dims in DIMENSIONS.values() for d in dims if out[d] is not None]
        out["mean_score"] = round(float(np.mean(present)), 6) if present else None
        return out

    @classmethod
    def build_demo(cls, root: Path) -> None:
        from harness import synth

        rng = random.Random(DEMO_SEED + 2)
        (root / "Test_Videos").mkdir(parents=True, exist_ok=True)
        generic, temporal, consistency = [], [], []
        for v in range(6):
            spec = synth.random_scene(rng)
            name = f"v_demo{v}"
            synth.write_mp4(spec, root / "Test_Videos" / f"{name}.mp4")
            desc = f"There are {spec.count} {spec.color} {spec.shape}s moving {spec.direction}."
            generic.append({"Q": "What is happening in the video?", "A": desc, "video_name": name})
            temporal.append({"Q": "Where do the shapes go over time?", "A": f"They move {spec.direction}.", "video_name": name})
            q, a, _ = demo_questions(rng, spec)[0]
            consistency.append({"Q1": q + "?", "Q2": f"Which colour do the {spec.shape}s have?", "A": a, "video_name": name})
        for fname, data in zip(FILES.values(), (generic, temporal, consistency)):
            (root / fname).write_text(json.dumps(data, indent=2))
