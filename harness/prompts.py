"""Protocol text files: a benchmark's instructions and its judge's messages, byte for byte.

The exact wording a benchmark feeds a model or a judge is protocol data, like its annotation
schema, so it lives in files that name their source instead of in code. Format:

    # source: DAMO-NLP-SG/VideoLLaMA2 @ c0bb03a, videollama2/eval/<script>.py (<where>)
    # <key>: <value>           header lines: metadata (`source` first; judges add `schema`)
    [instruction]
    Question: {question}
    ...
    [option]
    ({letter}) {option}
    <an empty line: this body ends with a newline>

A section's body is every line after its `[name]` line up to the next `[name]` line or the end of
the file, joined by newlines, without the newline that ends its last line (the file's final
newline is not part of the text either). So trailing spaces are kept, and a body that must end
with a newline is followed by one empty line. Fields are `{name}`, filled in one pass: a filled-in
value that itself contains `{question}` stays literal, and braces that do not enclose a bare
word (the judges' `{'score': 4}` examples) are text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import ConfigError

SECTION = re.compile(r"\[(\w+)\]")
FIELD = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class ProtocolText:
    """One template file: its header (`source`, ...) and its named sections."""

    path: Path
    header: dict[str, str]
    sections: dict[str, str]

    @property
    def hash(self) -> str:
        """Hash of the protocol text itself (sections, not comments): part of every resume and
        judge-cache key, so a change of wording never reuses answers given to the old one."""
        blob = "\x00".join(f"{k}\x00{v}" for k, v in sorted(self.sections.items()))
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    def section(self, name: str) -> str:
        if name not in self.sections:
            raise ConfigError(f"template {self.path} has no [{name}] section",
                              hint=f"it has {sorted(self.sections)}")
        return self.sections[name]

    def fill(self, name: str, **fields: object) -> str:
        """Section `name` with its `{field}`s replaced (one pass; every field must be given)."""
        return fill(self.section(name), fields, f"{self.path.name} [{name}]")


def fill(text: str, fields: dict[str, object], where: str = "template") -> str:
    missing = sorted(set(FIELD.findall(text)) - fields.keys())
    if missing:
        raise ConfigError(f"{where} needs fields {missing}")
    return FIELD.sub(lambda m: str(fields[m.group(1)]), text)


def parse(text: str, path: Path) -> ProtocolText:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the file's final newline ends its last line; it is not protocol text
    header: dict[str, str] = {}
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for n, line in enumerate(lines, 1):
        m = SECTION.fullmatch(line)
        if m:
            current = m.group(1)
            if current in sections:
                raise ConfigError(f"template {path}: section [{current}] twice (line {n})")
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
        elif line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep:
                header[key.strip()] = value.strip()
        elif line.strip():
            raise ConfigError(f"template {path}: line {n} is outside any [section]",
                              hint="header lines start with '#'; protocol text goes under a [name] line")
    if "source" not in header:
        raise ConfigError(f"template {path} does not name its source",
                          hint="first line: '# source: <repository> @ <commit>, <path> (<where>)'")
    return ProtocolText(path, header, {k: "\n".join(v) for k, v in sections.items()})


@lru_cache(maxsize=128)
def _load(path: Path, mtime_ns: int) -> ProtocolText:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read template {path}: {e}") from None
    return parse(text, path)


def load(path: str | Path) -> ProtocolText:
    """The parsed template at `path` (cached until the file changes)."""
    p = Path(path)
    try:
        mtime = p.stat().st_mtime_ns
    except OSError:
        raise ConfigError(f"template not found: {p}") from None
    return _load(p, mtime)
