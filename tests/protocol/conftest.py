"""Fixtures of the protocol tests (tests/protocol): the golden folder, and a summary of the
measured pixel differences printed at the end of the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._golden import GOLDEN, PIXEL_DIFFS


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    return GOLDEN


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not PIXEL_DIFFS:
        return
    terminalreporter.write_sep("-", "protocol pixels: max |u_ours - u_official| (uint8 levels)")
    for (case, backend), diff in sorted(PIXEL_DIFFS.items()):
        terminalreporter.write_line(f"{backend:7s} {case}: {diff}")
