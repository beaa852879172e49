"""EgoSchema (Mangalam et al., 2023): 5,031 five-option questions on 3-minute egocentric clips.

Files, as in the official repo (egoschema/EgoSchema): `questions.json` (a JSON array of
`{q_uid, google_drive_id, question, "option 0".."option 4"}`; JSONL is accepted too, detected by
content), `subset_answers.json` (`{q_uid: index}`, the 500 public labels); videos
`good_clips_git/<q_uid>.mp4`.
Splits: "subset" (the 500 labelled questions, scored here; default) and "full" (all questions,
scored by the official server: we write the submission, never a local full-set number).
Metric: accuracy on the subset. Parsing: the seed's rule (`parse`).
"""

from __future__ import annotations

import csv
import json
import logging
import random
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
    BadRecord,
    Collector,
    distinct_options,
    drop_answer_word,
    letter_index,
    mcq_instruction,
    mcq_metrics,
    need,
    need_index,
    need_records,
    read_json,
    read_text,
    seed_letter,
    video_ref,
)

N_OPTIONS = 5
log = logging.getLogger(__name__)


def read_questions(path: Path) -> list[tuple[str, Any]]:
    """(where, record) pairs from a JSON array or a JSONL file; a bad JSONL line becomes a
    BadRecord in place of its record, so it is reported rather than dropped."""
    text = read_text(path)
    if text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise DataError(f"not valid JSON: {e}", file=str(path)) from None
        if not isinstance(data, list):
            raise DataError(f"expected a JSON list of questions, found a {type(data).__name__}", file=str(path))
        return [(f"#{i}", rec) for i, rec in enumerate(need_records(data, path))]
    out: list[tuple[str, Any]] = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                out.append((f"line {n}", json.loads(line)))
            except json.JSONDecodeError as e:
                out.append((f"line {n}", BadRecord(f"not valid JSON: {e}")))
    if not out:
        raise DataError("no questions (neither a JSON array nor JSON lines)", file=str(path))
    return out


class EgoSchema(Task):
    name: ClassVar[str] = "egoschema"
    splits: ClassVar[dict[str, bool]] = {"subset": True, "full": False}
    default_split: ClassVar[str] = "subset"
    prompt_file: ClassVar[str] = "egoschema.txt"
    submission_help: ClassVar[str] = (
        "Upload egoschema_full_submission.csv (q_uid,answer) to the Kaggle competition "
        "kaggle.com/competitions/egoschema-public, or POST egoschema_full_submission.json ({q_uid: index}) "
        "to https://validation-server.onrender.com/api/upload/ as the EgoSchema README describes. "
        "Unparsed or errored questions are filled with index 2, the seed's fallback (see n_unparsed/n_errors).")

    # -- data ------------------------------------------------------------------------------
    def load(self) -> list[Sample]:
        qpath = self.root / "questions.json"
        questions = read_questions(qpath)
        labels: dict[str, Any] = {}
        apath = self.root / "subset_answers.json"
        if self.split == "subset":
            labels = read_json(apath)
            if not isinstance(labels, dict):
                raise DataError("expected an object {q_uid: answer index}", file=str(apath))
            need_records(labels, apath)
        col, seen, unreadable = Collector(self.name), set(), []
        for where, rec in questions:
            uid = rec.get("q_uid") if isinstance(rec, dict) else None
            sid = uid if isinstance(uid, str) and uid else f"questions.json:{where}"
            if self.split == "subset" and sid not in labels:
                if not isinstance(uid, str):
                    unreadable.append(where)  # may hide a labelled question: named below
                continue  # the subset split is the labelled questions only
            seen.add(sid)
            try:
                if isinstance(rec, BadRecord):
                    raise rec
                sample = self._sample(sid, rec, qpath, where)
            except (BadRecord, DataError) as e:
                col.bad(sid, e, qpath, where)
                continue
            if self.split == "subset":
                try:
                    sample.answer = need_index(labels[sid], N_OPTIONS, "answer index")
                except BadRecord as e:
                    sample.error = str(DataError(str(e), file=str(apath), record=sid))
            col.add(sample, qpath, where)
        extra = f"; questions.json has unreadable records at {', '.join(unreadable)}" if unreadable else ""
        for uid in labels:  # a label without a question is still one of the 500: report it
            if uid not in seen:
                col.bad(uid, f"labelled q_uid has no question in questions.json{extra}", apath, uid)
        repeated = [s.id for s in col.samples if s.meta.get("repeated_options")]
        if repeated:
            log.warning("egoschema: %d question(s) in %s repeat an option text (kept and scored by letter, as the "
                        "official evaluation does; meta.repeated_options says which): %s%s", len(repeated), qpath,
                        ", ".join(repeated[:5]), f" and {len(repeated) - 5} more" if len(repeated) > 5 else "")
        return col.samples

    def _sample(self, sid: str, rec: dict[str, Any], path: Path, where: str) -> Sample:
        need(rec, "q_uid")
        question = need(rec, "question")
        options = [need(rec, f"option {i}") for i in range(N_OPTIONS)]
        # An empty option is refused; a repeated one is kept: the extraction reads letters only, so a reply is
        # never ambiguous, and the real set has such questions (all 500 count in the official accuracy).
        repeats = distinct_options(options, "option 0..4", repeats_ok=True)
        media = video_ref(safe_join(self.root, f"good_clips_git/{sid}.mp4", file=str(path), record=where))
        meta: dict[str, Any] = {"google_drive_id": rec.get("google_drive_id")}
        if repeats:
            meta["repeated_options"] = repeats
        return Sample(id=sid, task=self.name, media=media, question=question, options=options, meta=meta)

    @classmethod
    def build_demo(cls, root: Path) -> None:
        """40 synthetic clips, one question each, all labelled (the subset split)."""
        s, rng, pos = _demo.load_synth(), random.Random(_demo.SEED + 2), _demo.Positions()
        kinds = ["color", "count", "direction", "shape", "change"]
        questions, answers = [], {}
        (root / "good_clips_git").mkdir(parents=True, exist_ok=True)
        for i in range(40):
            kind = kinds[i % len(kinds)]
            it = _demo.item(kind, _demo.scene(kind, rng, seed=i), N_OPTIONS, pos.next(N_OPTIONS), rng)
            uid = _demo.fake_uid(rng)
            s.write_mp4(it.spec, root / "good_clips_git" / f"{uid}.mp4")
            questions.append({"q_uid": uid, "google_drive_id": f"demo{i:04d}", "question": it.question,
                              **{f"option {k}": o for k, o in enumerate(it.options)}})
            answers[uid] = it.answer
        _demo.write_json(root / "questions.json", questions)
        _demo.write_json(root / "subset_answers.json", answers)

    # -- prompting and parsing ---------------------------------------------------------------
    def prompt(self, sample: Sample, frames: Frames | None = None) -> str:
        return mcq_instruction(self.template(), sample)

    def parse(self, sample: Sample, prediction: str) -> Parsed:
        """Seed rule: drop "answer"/"Answer"; the first `[\\(\\ ]*[A-E][\\)\\ ]*`, stripped of spaces
        then parentheses, must be one letter (not e.g. " A" from "( A)"); no option-text fallback."""
        hit = re.search(r"[\(\ ]*[A-E][\)\ ]*", drop_answer_word(prediction))
        letter = seed_letter(hit.group(0), N_OPTIONS) if hit else None
        return Parsed(letter, "letter") if letter else Parsed(None, "none")

    # -- scoring ---------------------------------------------------------------------------------
    def aggregate(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return mcq_metrics(records)

    def write_submission(self, records: list[dict[str, Any]], outdir: Path) -> Path | None:
        """Kaggle CSV `q_uid,answer` (answer = option index) plus the validation server's JSON."""
        outdir.mkdir(parents=True, exist_ok=True)
        rows = {}
        for r in records:
            idx = letter_index(r.get("parsed"))
            rows[r["id"]] = SEED_FALLBACK_INDEX if idx is None else idx
        path = outdir / "egoschema_full_submission.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["q_uid", "answer"])
            w.writerows(rows.items())
        (outdir / "egoschema_full_submission.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        return path
