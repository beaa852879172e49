"""Judge prompt templates (versioned files) and reading the judge's answer as data.

A template file is a `schema: <name>` line, then a `[system]` and a `[user]` section. The user
section names its fields as `{field}`. The file's hash goes into every cache key and verdict, so
editing a template can never reuse answers given to the old wording.
"""

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
SCHEMAS = {"pred_score": ("pred", "score"), "score": ("score",)}  # keys each schema's answer must carry
PLACEHOLDER = re.compile(r"\{(\w+)\}")  # {question}; the example dicts in templates have quotes, so never match
MAX_FIELD_CHARS = 6000  # a runaway prediction must not turn one judgement into a 100k-token request
MAX_ANSWER_CHARS = 20000  # the judge answers a dict in a few tokens; never scan more than this


@dataclass(frozen=True)
class Template:
    name: str
    schema: str
    system: str
    user: str
    hash: str

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(PLACEHOLDER.findall(self.user))

    def messages(self, fields: dict[str, str]) -> list[dict[str, str]]:
        """System + user messages with the fields filled in, in one pass: a prediction that itself
        contains the text `{answer}` stays literal (sequential replacing would leak the reference)."""
        missing = self.fields - fields.keys()
        if missing:
            raise ConfigError(f"judge template {self.name} needs fields {sorted(missing)}")

        def fill(m: re.Match[str]) -> str:
            value = str(fields[m.group(1)])
            return value if len(value) <= MAX_FIELD_CHARS else value[:MAX_FIELD_CHARS] + " [... truncated]"

        return [{"role": "system", "content": self.system},
                {"role": "user", "content": PLACEHOLDER.sub(fill, self.user)}]


def load_template(path: Path) -> Template:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"judge template not found: {path}") from None
    m = re.match(r"schema:\s*(\w+)\s*\n\[system\]\n(.*?)\n\[user\]\n(.*)\Z", text, re.DOTALL)
    if not m or m.group(1) not in SCHEMAS:
        raise ConfigError(f"judge template {path} is malformed",
                          hint=f"first line `schema: <{'|'.join(SCHEMAS)}>`, then [system] and [user] sections")
    return Template(path.name, m.group(1), m.group(2).strip(), m.group(3).strip(),
                    hashlib.sha256(text.encode()).hexdigest()[:12])


def _as_data(chunk: str) -> Any:
    for loader in (json.loads, ast.literal_eval):  # both parse data only; nothing is ever executed
        try:
            return loader(chunk)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    return float(value) if isinstance(value, (int, float)) else None


def _validate(obj: dict[Any, Any], schema: str) -> tuple[dict[str, Any] | None, str | None]:
    d = {str(k).strip().lower(): v for k, v in obj.items()}  # {'Score': 4} is a formatting slip, not a new answer
    missing = [k for k in SCHEMAS[schema] if k not in d]
    if missing:
        return None, f"keys {sorted(d)} lack {missing}"
    score = _number(d["score"])
    if score is None or not 0 <= score <= 5:  # NaN fails this too
        return None, f"score {d['score']!r} is not a number in 0..5"
    out: dict[str, Any] = {"score": int(score) if score.is_integer() else score}
    if "pred" in SCHEMAS[schema]:
        pred = d["pred"].strip().strip(".").lower() if isinstance(d["pred"], str) else None
        if pred not in ("yes", "no"):
            return None, f"pred {d['pred']!r} is not yes/no"
        out["pred"] = pred
    return out, None


def parse_verdict(text: Any, schema: str) -> tuple[dict[str, Any] | None, str | None]:
    """(validated answer, None) or (None, what is wrong). Never raises, never evaluates code.

    The first `{...}` in the text that parses as a dict and fits the schema wins, so prose around
    the dict is tolerated; anything else (a list, a bare word, wrong keys, a score of 7) is not.
    """
    if not isinstance(text, str) or not text.strip():
        return None, "empty answer"
    problem = None
    for m in re.finditer(r"\{[^{}]*\}", text[:MAX_ANSWER_CHARS]):
        obj = _as_data(m.group(0))
        if isinstance(obj, dict):
            data, why = _validate(obj, schema)
            if data is not None:
                return data, None
            problem = problem or why
    return None, problem or "no dict in the answer"
