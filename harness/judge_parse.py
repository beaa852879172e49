"""Judge prompt templates (versioned files) and parsing of the judge's answer as data."""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "tasks" / "prompts" / "judge"
SCHEMAS = {"pred_score", "score"}  # {'pred': 'yes'|'no', 'score': 0..5} | {'score': 0..5}


@dataclass(frozen=True)
class Template:
    name: str
    schema: str
    system: str
    user: str
    hash: str

    def messages(self, fields: dict[str, str]) -> list[dict[str, str]]:
        # str.replace, not format(): predictions may contain braces
        user = self.user
        for k, v in fields.items():
            user = user.replace("{" + k + "}", str(v))
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]


def load_template(path: Path) -> Template:
    """File layout: `schema: <name>` line, then `[system]` and `[user]` sections."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"judge template not found: {path}") from None
    m = re.match(r"schema:\s*(\w+)\s*\n\[system\]\n(.*?)\n\[user\]\n(.*)\Z", text, re.S)
    if not m or m.group(1) not in SCHEMAS:
        raise ConfigError(f"judge template {path} is malformed", hint="schema: <pred_score|score>, [system], [user]")
    return Template(path.name, m.group(1), m.group(2).strip(), m.group(3).strip(),
                    hashlib.sha256(text.encode()).hexdigest()[:12])


def _first_dict(text: str) -> Any:
    for m in re.finditer(r"\{[^{}]*\}", text):
        chunk = m.group(0)
        for loader in (json.loads, ast.literal_eval):  # literal_eval parses data only, never code
            try:
                return loader(chunk)
            except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
                continue
    return None


def parse_verdict(text: str, schema: str) -> tuple[dict[str, Any] | None, str | None]:
    """(validated dict, None) or (None, what is wrong). Prose around the dict is tolerated."""
    obj = _first_dict(text if isinstance(text, str) else "")
    if not isinstance(obj, dict):
        return None, "no dict in the answer"
    score = obj.get("score")
    if isinstance(score, str) and score.strip().lstrip("-").isdigit():
        score = int(score.strip())
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 5:
        return None, f"score {obj.get('score')!r} is not a number in 0..5"
    out: dict[str, Any] = {"score": score}
    if schema == "pred_score":
        pred = obj.get("pred")
        if not isinstance(pred, str) or pred.strip().lower() not in ("yes", "no"):
            return None, f"pred {pred!r} is not yes/no"
        out["pred"] = pred.strip().lower()
    return out, None
