"""Judge message templates (protocol text files, see harness.prompts) and reading the judge's
answer as data.

A judge template has a `# schema: <name>` header line and a `[system]` and a `[user]` section; the
user section names its fields as `{field}`. The text's hash goes into every cache key and verdict,
so a change of wording can never reuse answers given to the old one.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import prompts
from ..errors import ConfigError
from ..paths import package_dir

TEMPLATE_DIR = package_dir("harness.tasks") / "prompts" / "judge"  # tasks/prompts/judge/ in the repository
SCHEMAS = {"pred_score": ("pred", "score"), "score": ("score",)}  # keys each schema's answer must carry
MAX_FIELD_CHARS = 6000  # a runaway prediction must not turn one judgement into a 100k-token request
MAX_ANSWER_CHARS = 20000  # the judge answers a dict in a few tokens; never scan more than this


@dataclass(frozen=True)
class Template:
    name: str
    schema: str
    system: str
    user: str
    hash: str
    source: str = ""

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(prompts.FIELD.findall(self.user))

    def messages(self, fields: dict[str, str]) -> list[dict[str, str]]:
        """System + user messages with the fields filled in, in one pass: a prediction that itself
        contains the text `{answer}` stays literal (sequential replacing would leak the reference)."""
        missing = self.fields - fields.keys()
        if missing:
            raise ConfigError(f"judge template {self.name} needs fields {sorted(missing)}")
        values = {k: (v if len(v) <= MAX_FIELD_CHARS else v[:MAX_FIELD_CHARS] + " [... truncated]")
                  for k, v in ((k, str(v)) for k, v in fields.items())}
        return [{"role": "system", "content": self.system},
                {"role": "user", "content": prompts.fill(self.user, values, self.name)}]


def load_template(path: Path) -> Template:
    text = prompts.load(path)
    schema = text.header.get("schema")
    if schema not in SCHEMAS or set(text.sections) != {"system", "user"}:
        raise ConfigError(f"judge template {path} is malformed",
                          hint=f"a '# schema: <{'|'.join(SCHEMAS)}>' header line, then [system] and [user] sections")
    return Template(path.name, schema, text.sections["system"], text.sections["user"], text.hash,
                    text.header["source"])


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
    # The seed aggregates int(score): a judge that answers 4.8 (its own prompt's example) counts 4.
    out: dict[str, Any] = {"score": int(score)}
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
