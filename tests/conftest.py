"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def real_fixtures() -> Path:
    """Real benchmark annotation files and real-world videos kept in the repository
    (tests/data/real; what each file is, its source, licence and subset rule: tests/data/real/SOURCES.md)."""
    return DATA / "real"
