"""The GPT judge of the open-ended tasks.

config   JudgeConfig: the settings (`--judge k=v,...` over a task's default), their checks and deviations
core     Judge: concurrency, retries, deadlines, the cache; JudgeItem in, Verdict out
provider JudgeProvider: what one kind of endpoint implements; PROVIDERS maps `provider=` to one
client   OpenAIProvider: OpenAI, Azure OpenAI and compatible servers (the openai package, loaded on use)
parse    judge message templates (tasks/prompts/judge/) and reading an answer as data
store    JudgeCache: verdicts in SQLite, keyed by content
"""

from .config import JUDGE_DEVIATION, OFFICIAL_SAMPLING, PUBLISHED_JUDGE, JudgeConfig
from .core import Judge, JudgeItem, Verdict
from .parse import MAX_FIELD_CHARS, TEMPLATE_DIR, Template, load_template, parse_verdict
from .provider import PROVIDERS, Completion, JudgeProvider, ProviderError, provider_for
from .store import JudgeCache

__all__ = ["JUDGE_DEVIATION", "MAX_FIELD_CHARS", "OFFICIAL_SAMPLING", "PROVIDERS", "PUBLISHED_JUDGE", "TEMPLATE_DIR",
           "Completion", "Judge", "JudgeCache", "JudgeConfig", "JudgeItem", "JudgeProvider", "ProviderError",
           "Template", "Verdict", "load_template", "parse_verdict", "provider_for"]
