"""MSVD-QA (Xu et al. 2017) in the Video-ChatGPT / Video-LLaVA zero-shot layout (~13k test QA).

Files: `test_q.json` [{video_name, question_id, question}], `test_a.json` [{answer, type: 3,
question_id}]; videos `videos/<video_name>.avi`. Metric: GPT judge (yes/no + 0-5) -> accuracy and
average score, as ActivityNet-QA.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import ClassVar

from ._judged import DEMO_SEED, OpenQATask, demo_questions, load_qa_pairs, video_under


class MSVDQA(OpenQATask):
    name: ClassVar[str] = "msvd_qa"
    splits: ClassVar[dict[str, bool]] = {"test": True}

    def load(self):
        return load_qa_pairs(self.name, self.root, "test_q.json", "test_a.json",
                             video_under(self.root, "videos", ("{name}",), (".avi", ".mp4")))

    @classmethod
    def build_demo(cls, root: Path) -> None:
        import av

        from harness import synth

        rng = random.Random(DEMO_SEED + 1)
        (root / "videos").mkdir(parents=True, exist_ok=True)
        qs, ans = [], []
        for v in range(5):
            spec = synth.random_scene(rng)
            name = f"demo_{v}_0_2"
            frames = synth.render_frames(spec)
            with av.open(str(root / "videos" / f"{name}.avi"), "w") as out:  # MSVD ships .avi
                stream = out.add_stream("mpeg4", rate=8)
                stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
                for f in frames:
                    out.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
                out.mux(stream.encode())
            for j, (q, a, _) in enumerate(demo_questions(rng, spec)):
                qid = f"v_{name}_{j}"
                qs.append({"video_name": name, "question_id": qid, "question": q})
                ans.append({"answer": a, "type": 3, "question_id": qid})
        (root / "test_q.json").write_text(json.dumps(qs, indent=2))
        (root / "test_a.json").write_text(json.dumps(ans, indent=2))
