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


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory):
    """A HARNESS_CACHE of the module's own: its demo sets are built once for the module and never
    shared with, or taken from, another module's."""
    mp = pytest.MonkeyPatch()
    mp.setenv("HARNESS_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()
