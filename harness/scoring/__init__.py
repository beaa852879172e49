"""Scoring: from per-sample records to states and metrics. Never loads a model.

metrics  the shared metric functions tasks aggregate with: record states (`state_counts`), MCQ accuracy
         with a bootstrap CI, grouped breakdowns, the seed's fallback option
stage    the scoring stage of `harness run` and `harness score`: fills each record's scoring fields
         (rules or the judge), rewrites the samples file, returns slim records for the metrics
rescore  the `harness score OUTDIR` command: re-scores a finished run's saved predictions

`rescore` is not re-exported here: it drives the runner, which imports this package (import it as
harness.scoring.rescore).
"""

from .metrics import (
    BOOTSTRAP_ROUNDS,
    SEED_FALLBACK_INDEX,
    SEED_FALLBACK_LETTER,
    STATES,
    bootstrap_ci,
    grouped,
    mcq_accuracy,
    state_counts,
)
from .stage import CHUNK, SCORING_FIELDS, SLIM_DROP, score_file, score_records, task_metrics

__all__ = ["BOOTSTRAP_ROUNDS", "CHUNK", "SCORING_FIELDS", "SEED_FALLBACK_INDEX", "SEED_FALLBACK_LETTER", "SLIM_DROP",
           "STATES", "bootstrap_ci", "grouped", "mcq_accuracy", "score_file", "score_records", "state_counts",
           "task_metrics"]
