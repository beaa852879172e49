"""The judge's settings: `JudgeConfig` (a task's default judge block, overridden by `--judge k=v,...`),
checked on construction, and how they differ from the judge behind the published numbers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from ..config import parse_kv
from ..errors import ConfigError
from .provider import PROVIDERS, provider_for

ALIASES = {"deployment": "model", "endpoint": "base_url"}
# The seed's judge requests (eval_video_oqa_*.py): sampling settings, and the model behind the
# published numbers (an Azure GPT-3.5 deployment of the 0613 snapshot, retired in 2024).
OFFICIAL_SAMPLING = {"temperature": 0.7, "top_p": 0.95}
PUBLISHED_JUDGE = "gpt-3.5-turbo-0613"
JUDGE_DEVIATION = "judge "  # every judge deviation starts so (re-scoring recomputes them)


@dataclass(frozen=True)
class JudgeConfig:
    provider: str = "openai"  # "openai" (also any compatible base_url) | "azure"
    model: str = "gpt-3.5-turbo-0125"  # model name, or the Azure deployment
    base_url: str | None = None  # else OPENAI_BASE_URL / AZURE_OPENAI_ENDPOINT
    api_version: str | None = None  # Azure; else OPENAI_API_VERSION
    temperature: float = 0.0  # the official scripts used 0.7 (top_p 0.95), so re-judging drifted; we pin 0
    top_p: float | None = None  # not sent unless set; `temperature=0.7,top_p=0.95` replays the official setting
    concurrency: int = 8
    retries: int = 4  # attempts = retries + 1
    timeout: float = 60.0  # seconds per request, a hard deadline
    max_tokens: int = 800  # as the official requests (the answer is a short dict)
    backoff: float = 1.0  # first retry wait in seconds, doubling, with jitter
    retry_unscored: bool = False  # re-ask items a previous run left unscored instead of using the cache
    # Circuit breaker: after this many endpoint failures in a row (429, 5xx, connection errors,
    # timeouts, bad bodies), once an item has used up its retries in that streak, stop asking; every
    # item not yet judged is left unscored, uncached, with the reason. 0 = never stop.
    breaker: int = 20

    def __post_init__(self) -> None:
        checks = [(self.provider in PROVIDERS, (f"provider must be one of {', '.join(PROVIDERS)} (a compatible "
                                                "server is provider=openai,base_url=URL)")),
                  (bool(self.model), "model must be set"), (self.concurrency >= 1, "concurrency must be >= 1"),
                  (0 <= self.retries <= 20, "retries must be 0..20"), (self.timeout > 0, "timeout must be > 0"),
                  (self.max_tokens >= 1, "max_tokens must be >= 1"), (0 <= self.temperature <= 2, "temperature must be 0..2"),
                  (self.top_p is None or 0 < self.top_p <= 1, "top_p must be in (0, 1]"),
                  (self.backoff >= 0, "backoff must be >= 0"),
                  (self.breaker >= 0, "breaker must be >= 0 (0: never stop)")]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"bad judge setting: {message}")

    @classmethod
    def resolve(cls, task_default: dict[str, Any], cli_spec: str | None) -> JudgeConfig:
        """The task's default judge block, overridden key by key by `--judge k=v,k=v`."""
        values: dict[str, Any] = {}
        for source in (task_default or {}, parse_kv(cli_spec, "--judge")):
            values.update({ALIASES.get(k, k): v for k, v in source.items()})
        if any("key" in k.lower() for k in values):  # refused without ever echoing the value
            raise ConfigError("a judge API key is never an option", hint="export OPENAI_API_KEY or AZURE_OPENAI_API_KEY")
        kinds = {f.name: f.type for f in fields(cls)}
        bad = sorted(set(values) - set(kinds))
        if bad:
            raise ConfigError(f"unknown --judge keys {bad}", hint=f"known: {', '.join(sorted(kinds) + sorted(ALIASES))}")
        return cls(**{k: _coerce(k, v, str(kinds[k])) for k, v in values.items()})

    def deviations(self) -> list[str]:
        """How this judge differs from the one behind the published numbers."""
        out = []
        sampling = {"temperature": self.temperature, "top_p": self.top_p}
        if sampling != OFFICIAL_SAMPLING:
            out.append(f"{JUDGE_DEVIATION}sampling temperature={self.temperature:g}"
                       + (f", top_p={self.top_p:g}" if self.top_p is not None else "")
                       + " (official: temperature=0.7, top_p=0.95)")
        if self.model != PUBLISHED_JUDGE:
            out.append(f"{JUDGE_DEVIATION}model {self.model} (the published numbers: {PUBLISHED_JUDGE}, retired)")
        return out

    def public(self) -> dict[str, Any]:
        """What is printed at start and written to results: the endpoint really used (config or
        environment, without credentials in it) and the name of the key variable, never the key."""
        return {**asdict(self), **provider_for(self).public()}


def _coerce(name: str, value: Any, kind: str) -> Any:
    """`--judge` values arrive JSON-decoded (`model=4` is the int 4); give each field its type."""
    if value is None and "None" in kind:
        return None
    if kind.startswith("str"):
        return str(value)
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind.startswith("float") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise ConfigError(f"judge setting {name}={value!r} is not of type {kind}")
