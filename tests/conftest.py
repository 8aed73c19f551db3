"""Shared test fixtures: paths to the reference data in ../shared (never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REFERENCE = SHARED / "reference" / "dataefficiency-results"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The paper's released results (../shared/reference/dataefficiency-results)."""
    if not REFERENCE.is_dir():
        pytest.fail(f"reference data not found at {REFERENCE}; tests read it from ../shared")
    return REFERENCE
