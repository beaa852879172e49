"""The one HTTP layer for every OpenAI-compatible chat endpoint the harness talks to: the GPT judge
(harness.judge) and the `openai` model adapter (harness.models.adapters.openai_chat).

endpoint  Endpoint: where requests go, the *name* of the variable holding the key, the API version;
          checked before any work (`problem`), sanitised for results, redacted everywhere; the
          HTTP client that bounds every response body; ChatClient: one request in, one Completion
          out or a classified ChatError; the price table behind cost estimates
session   Session: bounded retries with backoff that honours Retry-After, a hard deadline per
          attempt, the circuit breaker, and the counts of requests, retries and tokens
"""

from .endpoint import (
    KEY_ENV,
    MAX_MODEL_CHARS,
    MAX_RESPONSE_BYTES,
    MAX_WAIT,
    PRICES,
    ChatClient,
    ChatError,
    Completion,
    Endpoint,
    ResponseRefused,
    estimate_cost,
    retry_after,
    sanitise_url,
)
from .session import KEPT_FAILING, FinalFailure, Outcome, Session, failure_category, run_sync

__all__ = ["KEPT_FAILING", "KEY_ENV", "MAX_MODEL_CHARS", "MAX_RESPONSE_BYTES", "MAX_WAIT", "PRICES", "ChatClient",
           "ChatError", "Completion", "Endpoint", "FinalFailure", "Outcome", "ResponseRefused", "Session", "estimate_cost",
           "failure_category", "retry_after", "run_sync", "sanitise_url"]
