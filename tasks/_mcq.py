"""Shared pieces of the multiple-choice tasks.

Option lettering and rendering, building blocks of the seed's letter-extraction rules (each
benchmark composes its own rule from them), annotation-file reading with clear errors, a sample
collector that turns bad records into error samples, an .srt reader, and metric assembly.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.errors import DataError
from harness.prompts import ProtocolText
from harness.scoring import grouped, mcq_accuracy
from harness.types import MediaRef, Sample

LETTERS = string.ascii_uppercase


# -- options -------------------------------------------------------------------------------------
def letters_for(n: int) -> str:
    """The option letters of an n-option question: "ABCD" for 4."""
    return LETTERS[: max(0, min(n, len(LETTERS)))]


def options_block(template: ProtocolText, options: list[str]) -> str:
    """The template's [option] section once per option, lettered from A: "(A) red\n(B) blue\n" in
    the seed's MVBench, EgoSchema and Perception Test instructions."""
    return "".join(template.fill("option", letter=letter, option=opt) for letter, opt in zip(LETTERS, options))


def mcq_instruction(template: ProtocolText, sample: Sample) -> str:
    """The [instruction] section with {question} and the lettered {options} filled in."""
    return template.fill("instruction", question=sample.question, options=options_block(template, sample.options or []))


def letter_index(letter: str | None) -> int | None:
    return LETTERS.index(letter) if letter and len(letter) == 1 and letter in LETTERS else None


# -- the seed's extraction building blocks ----------------------------------------------------------
def drop_answer_word(text: str) -> str:
    """Every seed MCQ rule first deletes the substrings "answer" and "Answer" (so "Answer: B" works)."""
    return text.replace("answer", "").replace("Answer", "")


def letter_class(n: int) -> str:
    """Regex class of the first n letters, as the seed builds it from its letter list: "[A-D]"."""
    ls = letters_for(n)
    return f"[{ls[0]}-{ls[-1]}]" if ls else "[^\\s\\S]"  # an empty class never matches


def seed_letter(hit: str, n: int) -> str | None:
    """The seed's `hit.strip().strip('()')` then `letters.index(...)`: anything but one exact letter
    (e.g. "A)," left over from "(A), ...") raised there and fell back to option 2; here: None."""
    s = hit.strip().strip("()")
    return s if len(s) == 1 and s in letters_for(n) else None


def contained_option(text: str, options: list[str]) -> int | None:
    """Index of the first option whose lower-cased text occurs in the lower-cased output."""
    low = text.lower()
    for i, opt in enumerate(options):
        if opt.lower() in low:
            return i
    return None


# -- annotation files and records ---------------------------------------------------------------
def need_file(path: Path, what: str = "annotation file") -> Path:
    if not path.is_file():
        raise DataError(f"{what} not found", file=str(path),
                        hint="point --data-root at the folder holding the benchmark as officially distributed")
    return path


def read_text(path: Path, what: str = "annotation file") -> str:
    """A file's text, or a DataError naming it (missing, unreadable, not UTF-8)."""
    need_file(path, what)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"cannot read {what}: {e}", file=str(path)) from None
    if not text.strip():
        raise DataError(f"{what} is empty", file=str(path), hint=EMPTY_HINT)
    return text


def read_json(path: Path, what: str = "annotation file") -> Any:
    try:
        return json.loads(read_text(path, what))
    except json.JSONDecodeError as e:
        raise DataError(f"{what} is not valid JSON: {e}", file=str(path)) from None


EMPTY_HINT = "the download or copy may be incomplete: fetch the benchmark's annotation files again"


def need_records(data: Any, path: Path, what: str = "annotation file") -> Any:
    """`data` (a parsed list or object of records), refused when it holds none: a run must not score
    zero samples as if that were a result."""
    if not data:
        raise DataError(f"{what} holds no records", file=str(path), hint=EMPTY_HINT)
    return data


class BadRecord(ValueError):
    """A problem with one annotation record; the loader turns it into that sample's error."""


def need(rec: Any, key: str, kind: type | tuple[type, ...] = str) -> Any:
    """rec[key], checked to be present, non-null and of `kind` (bool never counts as int)."""
    if not isinstance(rec, dict):
        raise BadRecord(f"record is a {type(rec).__name__}, not an object")
    if rec.get(key) is None:
        raise BadRecord(f"missing field {key!r}")
    v = rec[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(v, kinds) or (isinstance(v, bool) and bool not in kinds):
        names = "/".join(k.__name__ for k in kinds)
        raise BadRecord(f"field {key!r} is {type(v).__name__} {v!r:.40}, expected {names}")
    return v


def need_options(value: Any, key: str, n_min: int, n_max: int) -> list[str]:
    """An options list of n_min..n_max strings."""
    if not isinstance(value, list) or not all(isinstance(o, str) for o in value):
        raise BadRecord(f"field {key!r} is not a list of strings")
    if not n_min <= len(value) <= n_max:
        want = str(n_min) if n_min == n_max else f"{n_min}-{n_max}"
        raise BadRecord(f"field {key!r} has {len(value)} options, expected {want}")
    distinct_options(value, key)
    return value


def distinct_options(options: list[str], key: str = "options", repeats_ok: bool = False) -> list[str]:
    """Options a reply can tell apart: none empty (an empty text is contained in every reply, so the
    contained-text rule would pick it for anything) and none repeating another (case and surrounding
    spaces aside, as the rules compare them: which letter would a reply naming it mean?). A BadRecord
    otherwise. `repeats_ok` (a task whose extraction reads letters only): repeats are returned, as
    "E=C" (option E repeats option C), instead of refused."""
    seen: dict[str, int] = {}
    repeats = []
    for i, opt in enumerate(options):
        text = opt.strip().lower()
        if not text:
            raise BadRecord(f"field {key!r}: option {LETTERS[i]} is empty")
        if text in seen:
            j = seen[text]
            if not repeats_ok:
                raise BadRecord(f"field {key!r}: option {LETTERS[i]} repeats option {LETTERS[j]} ({options[j]!r:.40})")
            repeats.append(f"{LETTERS[i]}={LETTERS[j]}")
        seen[text] = i
    return repeats


def need_index(value: Any, n: int, what: str) -> str:
    """An answer index 0..n-1 -> its letter."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < n:
        raise BadRecord(f"{what} {value!r} is not an option index 0..{n - 1}")
    return LETTERS[value]


class Collector:
    """Accumulates a task's samples in load order. Bad records become samples with `error` set
    (never dropped); a repeated id gets an error and a suffixed id so its record stays distinct."""

    def __init__(self, task: str):
        self.task = task
        self.samples: list[Sample] = []
        self._seen: dict[str, int] = {}

    def add(self, sample: Sample, file: Path | str, record: str) -> None:
        n = self._seen.get(sample.id, 0)
        self._seen[sample.id] = n + 1
        if n:
            sample.error = str(DataError(f"duplicate sample id {sample.id!r}", file=str(file), record=record))
            sample.id = f"{sample.id}#dup{n}"
        self.samples.append(sample)

    def bad(self, sid: str, problem: str | Exception, file: Path | str, record: str, **fields: Any) -> None:
        """An error sample. A DataError (e.g. from safe_join) already names file and record."""
        error = str(problem) if isinstance(problem, DataError) else str(
            DataError(str(problem), file=str(file), record=record))
        fields.setdefault("question", "")
        self.add(Sample(id=sid, task=self.task, media=None, error=error, **fields), file, record)


def video_ref(path: Path, alternatives: tuple[str, ...] = (".mkv", ".avi", ".mov", ".webm")) -> MediaRef:
    """A video at `path`; when only another container with the same stem exists, use that one
    (the seed's scripts probe .mp4/.avi/.mov/.mkv the same way)."""
    if not path.exists():
        for ext in alternatives:
            alt = path.with_suffix(ext)
            if alt.exists():
                return MediaRef(str(alt), "video")
    return MediaRef(str(path), "video")


# -- metrics -----------------------------------------------------------------------------------------
def meta_key(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda r: (r.get("meta") or {}).get(name)


def mcq_metrics(records: list[dict[str, Any]], **groups: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """Overall accuracy (CI, seed-compatible) plus one `by_<name>` breakdown per grouping key."""
    out = dict(mcq_accuracy(records))
    for name, key in groups.items():
        out[f"by_{name}"] = grouped(records, key, mcq_accuracy)
    return out
