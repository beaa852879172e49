"""Video-MME (Fu et al., 2024): 900 videos x 3 four-option questions = 2,700, short/medium/long.

Files, as on the hub (lmms-lab/Video-MME): `videomme/test-00000-of-00001.parquet` with columns
video_id, duration, domain, sub_category, url, videoID, question_id, task_type, question,
options ("A. text", ...), answer (letter); videos `videos/<videoID>.mp4`; subtitles
`subtitles/<videoID>.srt` (a missing file means "no subtitles", recorded in meta).
Split: "test" (labels public). Options: `subtitles` (bool, default false): prepend the subtitle
lines shown at the sampled frames' timestamps (`prompt(sample, timestamps)`); `parser`:
"official" (the benchmark's evaluator, default) or "seed" (VideoLLaMA2's inference-step rule).
Metric: accuracy overall and by duration, domain, sub_category, task_type; `official_accuracy`
uses the evaluator's own denominator (answered questions only).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

from harness.errors import ConfigError, DataError
from harness.paths import safe_join
from harness.task import Task
from harness.types import Parsed, Sample

from . import _demo
from ._mcq import (
    LETTERS,
    BadRecord,
    Collector,
    drop_answer_word,
    mcq_metrics,
    meta_key,
    need,
    need_file,
    parse_srt,
    render,
    render_options,
    sections,
    subtitle_lines,
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
    uses_timestamps: ClassVar[bool] = True  # the runner passes the decoded frames' timestamps to prompt()

    def __init__(self, root: Path, split: str | None = None, options: dict[str, Any] | None = None):
        super().__init__(root, split, options)
        if self.options.get("parser", "official") not in ("official", "seed"):
            raise ConfigError(f"videomme parser {self.options['parser']!r}", hint='use "official" or "seed"')

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
        answer = need(rec, "answer")
        if answer not in LETTERS[:4]:
            raise BadRecord(f"answer {answer!r} is not one of A-D")
        media = video_ref(safe_join(self.root, f"videos/{vid}.mp4", file=str(path), record=where))
        srt = safe_join(self.root, f"subtitles/{vid}.srt", file=str(path), record=where)
        meta = {k: need(rec, k) for k in ("duration", "domain", "sub_category", "task_type")}
        # relative, so records do not depend on where the data root sits; None = no subtitles for this video
        meta.update(video_id=rec.get("video_id"), videoID=vid,
                    subtitle_file=f"subtitles/{vid}.srt" if srt.is_file() else None)
        return Sample(id=sid, task=self.name, media=media, question=question, options=options, answer=answer,
                      subset=meta["duration"], meta=meta)

    @classmethod
    def build_demo(cls, root: Path) -> None:
        """16 synthetic videos x 3 questions; every other video has an .srt naming the colour."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        s = _demo._synth()
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
    def prompt(self, sample: Sample, timestamps: list[float] | None = None) -> str:
        """The question; with option `subtitles`, preceded by the subtitle lines shown at
        `timestamps` (seconds of the frames the model sees; none selected when not given)."""
        parts = sections(self.template())
        body = render(parts["question"], question=sample.question, options=render_options(sample.options or [], "dot"))
        if not self.options.get("subtitles"):
            return body
        srt = (sample.meta or {}).get("subtitle_file")
        lines = subtitle_lines(parse_srt(str(self.root / srt)), timestamps or []) if srt else []
        return render(parts["subtitles"], subtitles="\n".join(lines)) + "\n" + body

    def parse(self, sample: Sample, prediction: str) -> Parsed:
        if self.options.get("parser", "official") == "seed":
            return parse_seed(prediction, sample.options or [])
        return parse_official(prediction)

    # -- scoring ---------------------------------------------------------------------------------
    def aggregate(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        out = mcq_metrics(records, duration=meta_key("duration"), domain=meta_key("domain"),
                          sub_category=meta_key("sub_category"), task_type=meta_key("task_type"))
        answered = [r for r in records if r.get("state") == "scored"]
        # The evaluator divides by the questions it could extract a letter from (not by all).
        out["official_accuracy"] = (round(sum(bool(r.get("correct")) for r in answered) / len(answered), 6)
                                    if answered else None)
        out["subtitles"] = bool(self.options.get("subtitles"))
        return out


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


def parse_seed(prediction: str, options: list[str]) -> Parsed:
    """VideoLLaMA2's inference-step rule: drop "answer"/"Answer"; first `[\\(\\ \\[]*([A-D])...`; else the
    first option contained in the output, or its English word for a one-digit option. The option
    text is what the seed's `[A-D]\\. (.*).` leaves of "X. text": the last character is cut."""
    text = drop_answer_word(prediction)
    hit = re.search(r"[\(\ \[]*([A-D])[\)\.\ \]]*", text)
    if hit:
        return Parsed(hit.group(1), "letter")
    low = text.lower()
    for i, opt in enumerate(options[:4]):
        cut = re.findall(r"[A-D]\. (.*).", f"{LETTERS[i]}. {opt}")
        if not cut:
            continue  # the seed raised on such an option; it can never match there
        word = DIGIT_WORDS.get(cut[0], cut[0])
        if cut[0].lower() in low or word.lower() in low:
            return Parsed(LETTERS[i], "option_text")
    return Parsed(None, "none")
