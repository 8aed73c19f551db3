"""The demo's curve plot: a real PNG from an estimate, refused while collecting."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataeff.demo.plot import plot_estimate
from dataeff.errors import InvalidInputError, NotReadyError

from .test_estimates import ESTIMATE

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_writes_a_png_with_the_curve(tmp_path: Path) -> None:
    path = plot_estimate(ESTIMATE, tmp_path / "out" / "curve.png", title="demo")
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (750, 420)
    assert 10_000 < len(data) < 200_000


def test_collecting_has_no_curve_and_bad_intervals_are_named(tmp_path: Path) -> None:
    with pytest.raises(NotReadyError, match="no predicted curve yet"):
        plot_estimate({**ESTIMATE, "auc": None, "verdict": "collecting"}, tmp_path / "c.png")
    with pytest.raises(InvalidInputError, match="'auc_interval' must be a \\[low, high\\] pair"):
        plot_estimate({**ESTIMATE, "auc_interval": [0.4]}, tmp_path / "c.png")
