"""Video-MME (Fu et al., 2024): 900 videos x 3 four-option questions = 2,700, short/medium/long.

Files, as on the hub (lmms-lab/Video-MME): `videomme/test-00000-of-00001.parquet` with columns
video_id, duration, domain, sub_category, url, videoID, question_id, task_type, question,
options ("A. text", ...), answer (letter); videos `videos/<videoID>.mp4`; subtitles
`subtitles/<videoID>.srt` (a missing file means "no subtitles", recorded in meta).
Split: "test" (labels public).
Protocol (the seed's inference_video_mcqa_videomme.py): every question is asked twice over the same
frames, without and with subtitles (`extra_prompts`); the subtitle lines are chosen by the seed's
own frame rule (`seq_frames`) over the video's frame count and rate, read with pysubs2 as there.
Options: `subtitles` ("both", the default and the protocol; "off": the without-subtitles setting
only, a deviation); `parser` ("seed", default: VideoLLaMA2's extraction, which wrote the letter the
benchmark's evaluator then scored; "evaluator": Video-MME's own rule on the raw reply).
Metric: accuracy overall and by duration, domain, sub_category, task_type, for each setting
(`with_subtitles` holds the second); `official_accuracy` uses the evaluator's own denominator
(answered questions only).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from harness.errors import DataError
from harness.paths import safe_join
from harness.scoring import state_counts
from harness.task import Option, Task, sample_from_record
from harness.types import Frames, Parsed, Sample

from . import _demo
from ._mcq import (
    LETTERS,
    BadRecord,
    Collector,
    distinct_options,
    drop_answer_word,
    mcq_metrics,
    meta_key,
    need,
    need_file,
    need_records,
    video_ref,
)

PARQUET = "videomme/test-00000-of-00001.parquet"
COLUMNS = ("question_id", "videoID", "question", "options", "answer", "duration", "domain", "sub_category",
           "task_type")
# The evaluator's prefix list, with its two missing commas kept: Python joins those literals, so
# "The best option is" and "Best answer:" on their own are never stripped.
OFFICIAL_PREFIXES = ("The best answer is", "The correct answer is", "The answer is", "The answer",
                     "The best option isThe correct option is", "Best answer:Best option:")
DIGIT_WORDS = dict(zip("0123456789", ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]))


class VideoMME(Task):
    name: ClassVar[str] = "videomme"
    splits: ClassVar[dict[str, bool]] = {"test": True}
    default_split: ClassVar[str] = "test"
    prompt_file: ClassVar[str] = "videomme.txt"

    option_specs: ClassVar[dict[str, Option]] = {
        "subtitles": Option(str, "both", "both: without and with subtitles, as the seed runs it; off: without only "
                                         "(a deviation)", ("both", "off")),
        "parser": Option(str, "seed", "seed: VideoLLaMA2's extraction; evaluator: Video-MME's own rule (a deviation)",
                         ("seed", "evaluator")),
    }

    def __init__(self, root: Path, split: str | None = None, options: dict[str, Any] | None = None):
        super().__init__(root, split, options)
        self.both_settings = self.option("subtitles") == "both"

    def deviations(self) -> list[str]:
        out = super().deviations()
        if not self.both_settings:
            out.append("the with-subtitles setting is not run (subtitles=off)")
        if self.option("parser") == "evaluator":
            out.append("answers extracted by Video-MME's evaluator rule, not the seed's")
        return out

    # -- data ------------------------------------------------------------------------------
    def load(self) -> list[Sample]:
        import pyarrow.parquet as pq

        path = need_file(self.root / PARQUET)
        try:
            table = pq.read_table(path)
        except Exception as e:  # noqa: BLE001 -- pyarrow raises several types for a corrupt or foreign file
            raise DataError(f"cannot read parquet: {e}", file=str(path)) from None
        missing = [c for c in COLUMNS if c not in table.column_names]
        if missing:
            raise DataError(f"parquet lacks columns {missing}", file=str(path))
        need_records(table.num_rows, path)
        col = Collector(self.name)
        for i, rec in enumerate(table.to_pylist()):
            qid = rec.get("question_id")
            sid = qid if isinstance(qid, str) and qid else f"row{i}"
            where = f"row {i} ({sid})"
            try:
                col.add(self._sample(sid, rec, path, where), path, where)
            except (BadRecord, DataError) as e:
                col.bad(sid, e, path, where, subset=rec.get("duration"))
        return col.samples

    def _sample(self, sid: str, rec: dict[str, Any], path: Path, where: str) -> Sample:
        vid, question = need(rec, "videoID"), need(rec, "question")
        lettered = need(rec, "options", list)
        if len(lettered) != 4:
            raise BadRecord(f"field 'options' has {len(lettered)} options, expected 4")
        options = []
        for letter, opt in zip(LETTERS, lettered):  # "A. text" -> "text"; letters must run A..D
            m = re.match(r"([A-Z])\.\s?(.*)", opt, re.DOTALL) if isinstance(opt, str) else None
            if not m or m.group(1) != letter:
                raise BadRecord(f"option {opt!r:.40} is not lettered '{letter}. ...'")
            options.append(m.group(2))
        distinct_options(options)
        answer = need(rec, "answer")
        if answer not in LETTERS[:4]:
            raise BadRecord(f"answer {answer!r} is not one of A-D")
        media = video_ref(safe_join(self.root, f"videos/{vid}.mp4", file=str(path), record=where))
        srt = safe_join(self.root, f"subtitles/{vid}.srt", file=str(path), record=where)
        meta = {k: need(rec, k) for k in ("duration", "domain", "sub_category", "task_type")}
        # relative, so records do not depend on where the data root sits; None = no subtitles for this video
        meta.update(video_id=rec.get("video_id"), videoID=vid, choices=list(lettered),
                    subtitle_file=f"subtitles/{vid}.srt" if srt.is_file() else None)
        return Sample(id=sid, task=self.name, media=media, question=question, options=options, answer=answer,
                      subset=meta["duration"], meta=meta)

    @classmethod
    def build_demo(cls, root: Path) -> None:
        """16 synthetic videos x 3 questions; every other video has an .srt naming the colour."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        s = _demo.load_synth()
        durations, domains = ["short", "medium", "long"], ["Knowledge", "Life Record", "Sports Competition"]
        task_types = {"color": "Attribute Perception", "change": "Temporal Perception",
                      "count": "Counting Problem", "direction": "Spatial Perception"}
        for folder in ("videos", "subtitles"):
            (root / folder).mkdir(parents=True, exist_ok=True)

        def write(spec: Any, v: int) -> None:
            s.write_mp4(spec, root / "videos" / f"demo{v:07d}.mp4")
            if v % 2 == 0:
                (root / "subtitles" / f"demo{v:07d}.srt").write_text(_demo.subtitle_srt(spec), encoding="utf-8")

        rows = []
        for v, items in enumerate(_demo.per_video(16, 3, 4, _demo.SEED + 1, write)):
            for k, it in enumerate(items, 1):
                rows.append({"video_id": f"{v + 1:03d}", "duration": durations[v % 3], "domain": domains[v % 3],
                             "sub_category": "Demo", "url": f"https://www.youtube.com/watch?v=demo{v:07d}",
                             "videoID": f"demo{v:07d}", "question_id": f"{v + 1:03d}-{k}",
                             "task_type": task_types[it.kind], "question": it.question,
                             "options": [f"{L}. {o}" for L, o in zip(LETTERS, it.options)],
                             "answer": LETTERS[it.answer]})
        (root / PARQUET).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows), root / PARQUET)

    # -- prompting and parsing ---------------------------------------------------------------
    def prompt(self, sample: Sample, frames: Frames | None = None) -> str:
        """The without-subtitles instruction, lettered choices as the parquet spells them."""
        t = self.template()
        options = "".join(t.fill("option", choice=c) for c in _choices(sample))
        return t.fill("instruction", question=sample.question, options=options)

    def extra_prompts(self, sample: Sample, frames: Frames | None = None) -> list[str]:
        """The with-subtitles instruction (the seed asks both over the same frames). Lines are picked
        at the seed's own frame positions over the whole video; no .srt file means no lines."""
        if not self.both_settings:
            return []
        srt = (sample.meta or {}).get("subtitle_file")
        lines = ""
        if srt and frames is not None and frames.video_frames and frames.fps:
            lines = subtitle_lines(str(self.root / srt), frames.video_frames, frames.fps, len(frames.indices))
        return [self.template().fill("subtitles", subtitles=lines, instruction=self.prompt(sample, frames))]

    def parse(self, sample: Sample, prediction: str) -> Parsed:
        if self.option("parser") == "evaluator":
            return parse_official(prediction)
        return parse_seed(prediction, _choices(sample))

    def score_record(self, rec: dict[str, Any]) -> None:
        """The record's own fields score the without-subtitles answer; `with_subtitles` holds the
        same fields for the second answer."""
        sample = sample_from_record(rec)
        rec.update(self._scored(sample, rec.get("prediction")))
        if self.both_settings:
            rec["with_subtitles"] = self._scored(sample, (rec.get("extra_predictions") or [None])[0])

    def _scored(self, sample: Sample, prediction: str | None) -> dict[str, Any]:
        parsed = self.parse(sample, prediction or "")
        ok = parsed.answer is not None
        return {"parsed": parsed.answer, "rule": parsed.rule, "state": "scored" if ok else "unparsed",
                "correct": ok and parsed.answer == sample.answer}

    # -- scoring ---------------------------------------------------------------------------------
    def aggregate(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        out = _setting_metrics(records)
        if self.both_settings:
            # an error record (bad video) is an error in both settings
            second = [{**r, **(r.get("with_subtitles") or {})} for r in records]
            out["with_subtitles"] = {**state_counts(second), **_setting_metrics(second)}
        return out


def _choices(sample: Sample) -> list[str]:
    """The options as the parquet spells them ("A. text"); rebuilt for records made elsewhere."""
    return (sample.meta or {}).get("choices") or [f"{L}. {o}" for L, o in zip(LETTERS, sample.options or [])]


def _setting_metrics(records: list[dict[str, Any]]) -> dict[str, Any]:
    out = mcq_metrics(records, duration=meta_key("duration"), domain=meta_key("domain"),
                      sub_category=meta_key("sub_category"), task_type=meta_key("task_type"))
    answered = [r for r in records if r.get("state") == "scored"]
    # The evaluator divides by the questions it could extract a letter from (not by all).
    out["official_accuracy"] = (round(sum(bool(r.get("correct")) for r in answered) / len(answered), 6)
                                if answered else None)
    return out


def seq_frames(total: int, n: int) -> list[int]:
    """The seed's `get_seq_frames`: the middle of n equal segments of [0, total - 1], each end rounded
    half to even (np.round) before the midpoint is floored. Not the rule the frames were sampled with."""
    seg = float(total - 1) / n
    return [(round(seg * i) + round(seg * (i + 1))) // 2 for i in range(n)]


Cue = tuple[int, int, str]  # start ms, end ms, text (pysubs2 writes a line break as \N)


def read_cues(srt_text: str) -> list[Cue]:
    """The cues of an .srt text, parsed by pysubs2 as the seed parses them."""
    import pysubs2

    return [(e.start, e.end, e.text) for e in pysubs2.SSAFile.from_string(srt_text)]


@lru_cache(maxsize=64)
def _file_cues(path: str) -> list[Cue]:
    import pysubs2

    return [(e.start, e.end, e.text) for e in pysubs2.load(path, encoding="utf-8")]


def select_subtitles(cues: list[Cue], video_frames: int, fps: float, n: int) -> str:
    """The seed's selection: at each of `seq_frames(video_frames, n)` (in milliseconds, pysubs2's
    rounding), the first cue strictly spanning it; its text with line breaks as spaces; empty
    ones left out; joined by newlines."""
    import pysubs2

    lines = []
    for f in seq_frames(video_frames, n):
        t = pysubs2.make_time(fps=fps, frames=f)
        text = next((c[2].replace("\\N", " ") for c in cues if c[0] < t < c[1]), "")
        if text.strip():
            lines.append(text)
    return "\n".join(lines)


def subtitle_lines(path: str, video_frames: int, fps: float, n: int) -> str:
    """`select_subtitles` over an .srt file (read as UTF-8, as the seed reads it)."""
    return select_subtitles(_file_cues(path), video_frames, fps, n)


def parse_official(prediction: str) -> Parsed:
    """The evaluator's rule: strip answer prefixes; then the first A-D capital anywhere (so the "A"
    of "Answer: C. Jade." wins, as there). Its ">10 words and no A-D letter -> no answer" clause
    needs no code of its own: without a letter the search finds nothing either."""
    s = prediction.strip()
    for prefix in OFFICIAL_PREFIXES:
        s = s.replace(prefix, "")
    hit = re.search(r"[ABCD]", s)
    if hit is None:
        return Parsed(None, "none")
    return Parsed(hit.group(0), "letter")


def parse_seed(prediction: str, choices: list[str]) -> Parsed:
    """VideoLLaMA2's inference-step rule: drop "answer"/"Answer"; first `[\\(\\ \\[]*([A-D])...`; else the
    first option contained in the output, or its English word for a one-digit option. The option
    text is what the seed's `[A-D]\\. (.*).` leaves of the lettered choice ("A. text"): the last
    character is cut."""
    text = drop_answer_word(prediction)
    hit = re.search(r"[\(\ \[]*([A-D])[\)\.\ \]]*", text)
    if hit:
        return Parsed(hit.group(1), "letter")
    low = text.lower()
    for i, choice in enumerate(choices[:4]):
        cut = re.findall(r"[A-D]\. (.*).", choice)
        if not cut:
            continue  # the seed raised on such an option; it can never match there
        word = DIGIT_WORDS.get(cut[0], cut[0])
        if cut[0].lower() in low or word.lower() in low:
            return Parsed(LETTERS[i], "option_text")
    return Parsed(None, "none")
