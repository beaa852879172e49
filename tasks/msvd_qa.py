"""MSVD-QA (Xu et al., ACM MM 2017) in the Video-ChatGPT / Video-LLaVA zero-shot layout.

Dataset: the "MSVD_Zero_Shot_QA" release (about 13.1k test questions) that VideoLLaMA2's
eval_video_oqa_msvd.sh reads. Split: `test`. Files: `test_q.json` [{video_name, question_id,
question}] and `test_a.json` [{answer, type: 3, question_id}], aligned by question_id; videos
`videos/<video_name>.avi`. Metric: the shared GPT judge (template qa_yes_no_v1: yes/no + 0-5)
-> accuracy (share of yes) and average score, as ActivityNet-QA. Judge default:
gpt-3.5-turbo-0125 at temperature 0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

from harness.types import Sample

from ._judged import NUMBER_WORDS, OpenQATask, load_qa_pairs, scenes, video_finder, write_avi

DEMO_SEED = 8


class MSVDQA(OpenQATask):
    name: ClassVar[str] = "msvd_qa"
    splits: ClassVar[dict[str, bool]] = {"test": True}
    prompt_file = "msvd_qa.txt"

    def load(self) -> list[Sample]:
        return load_qa_pairs(self.name, self.root, "test_q.json", "test_a.json",
                             video_finder(self.root, "videos", ("{name}",), (".avi",)))

    @classmethod
    def build_demo(cls, root: Path) -> None:
        """5 synthetic .avi clips x 4 questions in the official layout; one-word answers in MSVD's
        style (numbers as words)."""
        (root / "videos").mkdir(parents=True, exist_ok=True)
        qs, ans = [], []
        for v, spec in enumerate(scenes(DEMO_SEED, 5)):
            name = f"demo{v}_{v * 10}_{v * 10 + 2}"  # MSVD names carry the clip's start and end seconds
            write_avi(spec, root / "videos" / f"{name}.avi")
            items = [("what color are the moving shapes?", spec.color),
                     (f"how many {spec.shape}s are there?", NUMBER_WORDS[spec.count]),
                     ("what shape are the moving objects?", spec.shape),
                     ("which way are the shapes moving?", spec.direction)]
            for j, (q, a) in enumerate(items):
                qid = f"v_{name}_{j}"
                qs.append({"video_name": name, "question_id": qid, "question": q})
                ans.append({"answer": a, "type": 3, "question_id": qid})
        (root / "test_q.json").write_text(json.dumps(qs, indent=2))
        (root / "test_a.json").write_text(json.dumps(ans, indent=2))
