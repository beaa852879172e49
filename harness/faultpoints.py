"""Named crash points for the fault suite: HARNESS_CRASH_AT=<point> kills the process there
with SIGKILL (no cleanup, no finally blocks), exactly like an OOM kill or a pre-empted node.

Points: after_infer, mid_merge, mid_score, mid_results. Unset in normal use: a dict lookup.
"""

from __future__ import annotations

import os
import signal


def crash_point(name: str) -> None:
    if os.environ.get("HARNESS_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
