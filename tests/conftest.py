"""Shared test helpers: locating the real TensorRT artifacts in ../shared/fixtures (read in place)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = Path(os.environ.get("TRTSCOPE_SHARED_FIXTURES", REPO.parent / "shared" / "fixtures"))
OWN_FIXTURES = REPO / "fixtures"


def shared_fixture(*parts: str) -> Path:
    """Path to a real artifact under ../shared/fixtures; skips the test (with the reason) when absent."""
    p = SHARED_FIXTURES.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"real TensorRT artifacts not available: {p} is absent (CI has ../shared beside the clone)")
    return p


def own_fixture(*parts: str) -> Path:
    """Path to one of the project's own fixtures (always present in the repository)."""
    p = OWN_FIXTURES.joinpath(*parts)
    assert p.exists(), f"missing project fixture {p}"
    return p
