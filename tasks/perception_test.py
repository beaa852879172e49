"""Perception Test, multiple-choice video QA (Patraucean et al., 2023): 3 options per question.

Files, as in the official release (google-deepmind/perception_test): `mc_question_<split>.json`,
a dict `video_id -> {metadata: {...}, mc_question: [{id, question, options: [3], answer_id,
area, reasoning, tag}]}` (no answer_id in test); videos `videos/<video_id>.mp4`.
Splits: "valid" (scored here; default) and "test" (scored by the challenge server: we write the
submission `{video_id: [{id, answer_id, answer}]}`). Ids "<video_id>_<question id>".
Metric: accuracy, and by area and by reasoning. Parsing: the seed's rule (`parse`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar

from harness.errors import DataError
from harness.paths import safe_join
from harness.scoring import SEED_FALLBACK_INDEX  # completes a submission where nothing parsed
from harness.task import Task
from harness.types import Frames, Parsed, Sample

from . import _demo
from ._mcq import (
    LETTERS,
    BadRecord,
    Collector,
    drop_answer_word,
    letter_index,
    mcq_instruction,
    mcq_metrics,
    meta_key,
    need,
    need_index,
    need_options,
    need_records,
    read_json,
    video_ref,
)

N_OPTIONS = 3
DEMO_LABELS = {"color": ("semantics", "descriptive"), "change": ("memory", "descriptive"),
               "count": ("abstraction", "descriptive"), "direction": ("physics", "descriptive")}


class PerceptionTest(Task):
    name: ClassVar[str] = "perception_test"
    splits: ClassVar[dict[str, bool]] = {"valid": True, "test": False}
    default_split: ClassVar[str] = "valid"
    prompt_file: ClassVar[str] = "perception_test.txt"
    submission_help: ClassVar[str] = (
        "Submit perception_test_mc_test_submission.json to the Perception Test multiple-choice VQA "
        "challenge on eval.ai (linked from github.com/google-deepmind/perception_test). Unparsed or "
        "errored questions are filled with answer_id 2, the seed's fallback (see n_unparsed/n_errors).")

    # -- data ------------------------------------------------------------------------------
    def load(self) -> list[Sample]:
        path = self.root / f"mc_question_{self.split}.json"
        data = read_json(path)
        if not isinstance(data, dict):
            raise DataError("expected an object {video_id: {metadata, mc_question}}", file=str(path))
        need_records(data, path)
        col = Collector(self.name)
        for video_id, entry in data.items():
            try:
                questions = need(entry, "mc_question", list)
                media = video_ref(safe_join(self.root, f"videos/{video_id}.mp4", file=str(path), record=video_id))
            except (BadRecord, DataError) as e:
                col.bad(video_id, e, path, video_id)
                continue
            for j, q in enumerate(questions):
                qid = q.get("id") if isinstance(q, dict) else None
                sid = f"{video_id}_{qid if qid is not None else f'#{j}'}"
                where = f"{video_id} mc_question #{j}"
                try:
                    col.add(self._sample(sid, video_id, q, media), path, where)
                except BadRecord as e:
                    col.bad(sid, e, path, where, meta={"video_id": video_id, "question_id": qid})
        return col.samples

    def _sample(self, sid: str, video_id: str, q: Any, media: Any) -> Sample:
        qid = need(q, "id", (int, str))
        options = need_options(need(q, "options", list), "options", N_OPTIONS, N_OPTIONS)
        answer = need_index(need(q, "answer_id", int), N_OPTIONS, "answer_id") if self.splits[self.split] else None
        area, reasoning = need(q, "area"), need(q, "reasoning")
        tags = q.get("tag") or []
        return Sample(id=sid, task=self.name, media=media, question=need(q, "question"), options=options,
                      answer=answer, subset=area,
                      meta={"video_id": video_id, "question_id": qid, "area": area, "reasoning": reasoning,
                            "tags": tags if isinstance(tags, list) else [tags]})

    @classmethod
    def build_demo(cls, root: Path) -> None:
        """The valid split: 16 synthetic videos x 3 questions."""
        s = _demo.load_synth()
        (root / "videos").mkdir(parents=True, exist_ok=True)
        data: dict[str, Any] = {}

        def write(spec: Any, v: int) -> None:
            s.write_mp4(spec, root / "videos" / f"video_{9000 + v}.mp4", fps=8, seconds=_demo.SECONDS)

        for v, items in enumerate(_demo.per_video(16, 3, N_OPTIONS, _demo.SEED + 3, write)):
            vid = f"video_{9000 + v}"
            data[vid] = {"metadata": {"video_id": vid, "split": "valid", "num_frames": int(8 * _demo.SECONDS),
                                      "frame_rate": 8, "resolution": [64, 64]},
                         "mc_question": [{"id": k, "question": it.question, "options": it.options,
                                          "answer_id": it.answer, "area": DEMO_LABELS[it.kind][0],
                                          "reasoning": DEMO_LABELS[it.kind][1], "tag": ["demo", it.kind]}
                                         for k, it in enumerate(items)]}
        _demo.write_json(root / "mc_question_valid.json", data)

    # -- prompting and parsing ---------------------------------------------------------------
    def prompt(self, sample: Sample, frames: Frames | None = None) -> str:
        return mcq_instruction(self.template(), sample)

    def parse(self, sample: Sample, prediction: str) -> Parsed:
        """Seed rule: drop "answer"/"Answer"; the first `\\(*[A-C]\\)*` gives the letter (any capital
        A-C, e.g. the "C" of "Cannot"); else the whole output equal to an option (case-insensitive)."""
        text = drop_answer_word(prediction)
        hit = re.search(r"\(*[A-C]\)*", text)
        if hit:
            return Parsed(hit.group(0).strip("()"), "letter")
        low = [o.lower() for o in (sample.options or [])[:N_OPTIONS]]
        if text.lower() in low:
            return Parsed(LETTERS[low.index(text.lower())], "option_text")
        return Parsed(None, "none")

    # -- scoring ---------------------------------------------------------------------------------
    def aggregate(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return mcq_metrics(records, area=meta_key("area"), reasoning=meta_key("reasoning"))

    def write_submission(self, records: list[dict[str, Any]], outdir: Path) -> Path | None:
        """`{video_id: [{id, answer_id, answer}]}` in load order, every question present."""
        out: dict[str, list[dict[str, Any]]] = {}
        for r in records:
            meta, options = r.get("meta") or {}, r.get("options") or []
            idx = letter_index(r.get("parsed"))
            idx = SEED_FALLBACK_INDEX if idx is None or idx >= len(options) else idx
            out.setdefault(meta.get("video_id") or r["id"], []).append(
                {"id": meta.get("question_id"), "answer_id": idx, "answer": options[idx] if options else None})
        outdir.mkdir(parents=True, exist_ok=True)
        path = outdir / f"perception_test_mc_{self.split}_submission.json"
        path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path
