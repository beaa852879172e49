"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def real_fixtures() -> Path:
    """The real benchmark annotation files (shared/fixtures/real; override: HARNESS_REAL_FIXTURES)."""
    env = os.environ.get("HARNESS_REAL_FIXTURES")
    path = Path(env) if env else Path(__file__).parents[2] / "shared" / "fixtures" / "real"
    if not path.is_dir():
        pytest.skip(f"real fixtures not found at {path} (set HARNESS_REAL_FIXTURES)")
    return path
