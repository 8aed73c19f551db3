"""How the demo reads and prints estimates (contract: docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dataeff.demo.estimates import (
    fetch_estimate,
    format_estimate,
    is_settled,
    progress_bar,
)
from dataeff.demo.runner import DemoOptions
from dataeff.errors import InvalidInputError, UnavailableError
from dataeff.labelstudio.localserver import free_port

ESTIMATE: dict[str, Any] = {
    "project": 1, "model_version": "dataeff-conf-v1", "state": "idle",
    "verdict": "keep_labeling", "message": "About 700 more labeled examples (288-1,388).",
    "provisional": False, "examples_needed": 812.0,
    "examples_needed_interval": [400.0, 1500.0], "remaining": 700,
    "remaining_interval": [288, 1388], "coslow": 0.41, "coslow_interval": [0.35, 0.47],
    "auc": 0.52, "auc_interval": [0.40, 0.64], "calibration": None,
    "counts": {"tasks": 120, "scored": 120, "annotated": 40, "low_confidence": 12,
               "low_confidence_annotated": 8, "needed_low_confidence": 0},
    "criteria": {"target": 0.9, "max_budget": 5000, "min_gain": 0.01, "gain_step": 100,
                 "min_examples": 32},
}  # fmt: skip


def test_a_verdict_line_names_remaining_range_and_coslow() -> None:
    assert format_estimate(ESTIMATE) == (
        "keep labeling | ~700 more examples needed (288-1,388) | n* ~812 (400-1,500) | "
        "CoS-Low 0.410"
    )
    stop = {**ESTIMATE, "verdict": "target_reached", "remaining": 0, "provisional": True}
    assert format_estimate(stop).startswith("STOP: target reached | ~0 more")
    assert format_estimate(stop).endswith("| provisional")


def test_collecting_says_how_many_low_confidence_labels_are_missing() -> None:
    collecting = {**ESTIMATE, "verdict": "collecting", "counts": {
        **ESTIMATE["counts"], "low_confidence_annotated": 5, "needed_low_confidence": 11}}
    assert format_estimate(collecting) == (
        "collecting: 5 low-confidence labels, 11 more needed before an estimate"
    )


def test_progress_bar_and_settled() -> None:
    assert progress_bar(0, 10, width=10) == "[··········]"
    assert progress_bar(5, 10, width=10) == "[█████·····]"
    assert progress_bar(12, 10, width=4) == "[████]"
    assert is_settled(ESTIMATE, 40) and not is_settled(ESTIMATE, 41)
    assert not is_settled({**ESTIMATE, "state": "running"}, 40)


def test_fetch_from_a_dead_backend_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(UnavailableError, match=f"cannot reach the dataeff backend at {url}"):
        fetch_estimate(url, 3)


def test_demo_options_defaults_and_checks() -> None:
    assert DemoOptions().planned_labels() == 10 + 4 * 5
    assert DemoOptions(keep_running=True).planned_labels() == 10
    assert DemoOptions(labels=5).planned_labels() == 5
    with pytest.raises(InvalidInputError, match=r"--labels 200 must lie in 0\.\.100"):
        DemoOptions(labels=200, workdir=Path("x")).check()
