"""Shared pieces of the multiple-choice tasks.

Option lettering and rendering, building blocks of the seed's letter-extraction rules (each
benchmark composes its own rule from them), annotation-file reading with clear errors, a sample
collector that turns bad records into error samples, an .srt reader, and metric assembly.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.errors import DataError
from harness.scoring import grouped, mcq_accuracy
from harness.types import MediaRef, Sample

LETTERS = string.ascii_uppercase


# -- options -------------------------------------------------------------------------------------
def letters_for(n: int) -> str:
    """The option letters of an n-option question: "ABCD" for 4."""
    return LETTERS[: max(0, min(n, len(LETTERS)))]


def render_options(options: list[str], style: str = "paren") -> str:
    """Option lines: "(A) text" (style "paren") or "A. text" (style "dot", Video-MME's own)."""
    fmt = "({l}) {o}" if style == "paren" else "{l}. {o}"
    return "\n".join(fmt.format(l=letter, o=opt) for letter, opt in zip(LETTERS, options))


def letter_index(letter: str | None) -> int | None:
    return LETTERS.index(letter) if letter and len(letter) == 1 and letter in LETTERS else None


def render(template: str, **fields: Any) -> str:
    """Fill a str.format template; outer whitespace is trimmed so files may end with a newline."""
    return template.format(**fields).strip()


def sections(template: str) -> dict[str, str]:
    """Split a template into named parts: a line `[name]` starts part `name`."""
    parts: dict[str, list[str]] = {}
    current = ""
    for line in template.splitlines():
        m = re.fullmatch(r"\[(\w+)\]\s*", line)
        if m:
            current = m.group(1)
            parts[current] = []
        else:
            parts.setdefault(current, []).append(line)
    return {k: "\n".join(v).strip("\n") for k, v in parts.items()}


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
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"cannot read {what}: {e}", file=str(path)) from None


def read_json(path: Path, what: str = "annotation file") -> Any:
    try:
        return json.loads(read_text(path, what))
    except json.JSONDecodeError as e:
        raise DataError(f"{what} is not valid JSON: {e}", file=str(path)) from None


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
    return value


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


# -- subtitles (.srt) -------------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def parse_srt(path: str) -> tuple[tuple[float, float, str], ...]:
    """(start s, end s, text) cues of an .srt file; multi-line cues joined by spaces, tags dropped.
    Unreadable files and malformed blocks yield no cues rather than an error."""
    try:
        text = Path(path).read_bytes().decode("utf-8-sig", errors="replace")
    except OSError:
        return ()
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = block.strip().split("\n")
        at = next((j for j, ln in enumerate(lines) if "-->" in ln), None)
        if at is None:
            continue
        times = re.findall(r"(\d+):(\d{1,2}):(\d{1,2})(?:[,.](\d{1,3}))?", lines[at])
        if len(times) < 2:
            continue
        start, end = (int(h) * 3600 + int(m) * 60 + int(s_) + int((ms or "0").ljust(3, "0")) / 1000
                      for h, m, s_, ms in times[:2])
        body = " ".join(ln.strip() for ln in lines[at + 1:] if ln.strip())
        cues.append((start, end, re.sub(r"<[^>]+>", "", body)))
    return tuple(cues)


def subtitle_lines(cues: tuple[tuple[float, float, str], ...], timestamps: list[float]) -> list[str]:
    """Per timestamp, the first cue strictly spanning it (start < t < end), as the seed selects them;
    a cue is listed once per frame that falls inside it, as there."""
    out = []
    for t in timestamps:
        text = next((c[2] for c in cues if c[0] < t < c[1]), "")
        if text.strip():
            out.append(text)
    return out


# -- metrics -----------------------------------------------------------------------------------------
def meta_key(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda r: (r.get("meta") or {}).get(name)


def mcq_metrics(records: list[dict[str, Any]], **groups: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """Overall accuracy (CI, seed-compatible) plus one `by_<name>` breakdown per grouping key."""
    out = dict(mcq_accuracy(records))
    for name, key in groups.items():
        out[f"by_{name}"] = grouped(records, key, mcq_accuracy)
    return out
