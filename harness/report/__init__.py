"""Everything made from finished runs' result files: no model, nothing recomputed.

tables   `harness report`: the leaderboard (runs x benchmark columns, published rows) as md/csv/latex/json,
         parquet of every per-sample record
html     the self-contained HTML page (`--format html`): charts, breakdowns, samples with thumbnails
compare  `harness compare A B`: per-task deltas with the paired test, the flipped samples
gate     `harness gate`: floors and allowed drops for CI, judged by the paired test
stats    the paired test itself (exact McNemar on per-sample correctness)
"""

from .tables import COLUMNS, PUBLISHED, cmd_report, leaderboard, to_csv, to_latex, to_markdown, to_parquet

__all__ = ["COLUMNS", "PUBLISHED", "cmd_report", "leaderboard", "to_csv", "to_latex", "to_markdown", "to_parquet"]
