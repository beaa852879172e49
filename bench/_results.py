"""bench/RESULTS.md: each bench script owns one section (a `## ` heading that starts with its
name) and rewrites only that one, so the file always holds the latest figures of every script."""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(heading: str, text: str) -> None:
    """Replace the section whose heading starts with `heading` (or append one); `text` is the whole
    new section, heading line included."""
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"\n{re.escape(heading)}.*?(?=\n## |\Z)", re.DOTALL)
    kept = pattern.sub("", old).rstrip("\n")
    RESULTS.write_text(f"{kept}\n\n{text.strip()}\n", encoding="utf-8")
