"""Predicted AUC and examples needed with their ranges (method §6, §7, §9)."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from dataeff.efficiency import (
    FALLBACK_CALIBRATION,
    BudgetEstimate,
    Calibration,
    Interval,
    budget_from_auc,
    estimate_budget,
    examples_needed,
    get_calibration,
)
from dataeff.errors import InvalidInputError

Z80 = NormalDist().inv_cdf(0.9)


def _line(
    residual_sd: float = 0.0, slope_se: float = 0.0, intercept_se: float = 0.0
) -> Calibration:
    return Calibration("line", 0.5, 0.2, slope_se, intercept_se, residual_sd, "test")


def test_variance_terms_combine_as_documented() -> None:
    samples = [0.40, 0.45, 0.50, 0.55, 0.60]
    line = _line(residual_sd=0.05, slope_se=0.1, intercept_se=0.02)
    estimate = estimate_budget(0.5, line, target=0.9, coslow_samples=samples)
    variance = 0.5**2 * np.var(samples, ddof=1) + 0.5**2 * 0.1**2 + 0.02**2 + 0.05**2
    half = Z80 * math.sqrt(variance)
    assert estimate.auc == pytest.approx(0.45)
    assert estimate.auc_interval.as_list() == pytest.approx([0.45 - half, 0.45 + half])
    assert estimate.examples_needed == pytest.approx(examples_needed(0.45, 0.9))
    assert estimate.examples_needed_interval.as_list() == pytest.approx(
        [examples_needed(0.45 + half, 0.9), examples_needed(0.45 - half, 0.9)]
    )
    assert estimate.coslow == 0.5 and estimate.calibration == "line"
    assert estimate.coslow_interval is not None and estimate.coslow_interval.contains(0.5)


def test_coslow_interval_gives_its_spread() -> None:
    interval = Interval(0.4, 0.6, 0.8)  # sd = 0.1 / z80
    estimate = estimate_budget(0.5, _line(), target=0.9, coslow_interval=interval)
    assert estimate.auc_interval.as_list() == pytest.approx([0.45 - 0.05, 0.45 + 0.05])
    assert estimate.coslow_interval == interval
    both = estimate_budget(0.5, _line(), target=0.9, coslow_interval=interval,
                           coslow_samples=[0.5, 0.5001])
    assert both.auc_interval == estimate.auc_interval  # the larger spread wins


def test_no_spread_gives_a_point_interval() -> None:
    estimate = estimate_budget(0.5, _line(), target=0.9)
    assert estimate.auc_interval.low == estimate.auc_interval.high == estimate.auc


def test_wider_level_wider_range() -> None:
    llama = get_calibration("llama")
    narrow = estimate_budget(0.4, llama, target=0.9, level=0.5).examples_needed_interval
    wide = estimate_budget(0.4, llama, target=0.9, level=0.95).examples_needed_interval
    assert wide.low < narrow.low and wide.high > narrow.high
    assert (narrow.level, wide.level) == (0.5, 0.95)


def test_fallback_range_is_wider_than_llama() -> None:
    llama = estimate_budget(0.4, get_calibration("llama"), target=0.9)
    fallback = estimate_budget(0.4, FALLBACK_CALIBRATION, target=0.9)
    assert fallback.auc == llama.auc
    width = lambda e: e.auc_interval.high - e.auc_interval.low  # noqa: E731
    assert width(fallback) > width(llama)


def test_extreme_coslow_is_clamped_and_still_contains_the_point() -> None:
    estimate = estimate_budget(1.0, get_calibration("mistral"), target=0.9)
    assert 0 < estimate.auc < 1
    assert estimate.auc_interval.contains(estimate.auc)
    assert estimate.examples_needed_interval.contains(estimate.examples_needed)
    assert estimate.examples_needed >= 1


def test_budget_from_auc() -> None:
    exact = budget_from_auc(0.661, target=0.9)
    assert abs(exact.examples_needed - 1028) <= 1
    assert exact.examples_needed_interval.low == exact.examples_needed_interval.high
    ranged = budget_from_auc(0.5, target=0.9, auc_interval=Interval(0.4, 1.0, 0.9))
    assert ranged.auc_interval.high < 1 and ranged.level == 0.9
    assert ranged.examples_needed_interval.as_list() == pytest.approx(
        [examples_needed(ranged.auc_interval.high, 0.9), examples_needed(0.4, 0.9)]
    )
    widened = budget_from_auc(0.5, target=0.9, auc_interval=Interval(0.6, 0.7))
    assert widened.auc_interval.low == 0.5


def test_curve_with_band_for_plots() -> None:
    estimate = estimate_budget(0.4, get_calibration("llama"), target=0.9)
    rows = estimate.curve(17)
    assert rows[0] == (0, 0.0, 0.0, 0.0)
    assert rows[-1][0] == 5000 and rows[-1][1:] == (1.0, 1.0, 1.0)
    assert 2 < len(rows) <= 17
    assert [r[0] for r in rows] == sorted({r[0] for r in rows})
    for _, f, low, high in rows:
        assert low <= f <= high
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)
    with pytest.raises(InvalidInputError, match="n_points"):
        estimate.curve(1)


def test_retarget_keeps_the_auc_range() -> None:
    estimate = estimate_budget(0.4, get_calibration("llama"), target=0.9)
    other = estimate.retarget(0.8, max_budget=2000)
    assert (other.auc, other.auc_interval) == (estimate.auc, estimate.auc_interval)
    assert other.examples_needed == pytest.approx(examples_needed(estimate.auc, 0.8, 2000))
    assert other.calibration == estimate.calibration


def test_to_dict_and_determinism() -> None:
    first = estimate_budget(0.4, get_calibration("qwen"), target=0.9,
                            coslow_samples=[0.35, 0.38, 0.42, 0.44])
    second = estimate_budget(0.4, get_calibration("qwen"), target=0.9,
                             coslow_samples=[0.35, 0.38, 0.42, 0.44])
    assert first == second
    data = first.to_dict()
    assert set(data) == {"auc", "auc_interval", "p", "examples_needed",
                         "examples_needed_interval", "target", "max_budget", "level",
                         "coslow", "coslow_interval", "calibration"}
    assert data["calibration"] == "Qwen/Qwen2.5-14B-Instruct"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: estimate_budget(1.5, _line(), target=0.9), "coslow must lie in"),
        (lambda: estimate_budget(0.5, _line(), target=0.0), "target"),
        (lambda: estimate_budget(0.5, _line(), target=0.9, level=1.0), "level"),
        (lambda: estimate_budget(0.5, _line(), target=0.9, coslow_samples=[0.5]),
         "at least 2 values"),
        (lambda: estimate_budget(0.5, _line(), target=0.9, coslow_samples=[0.5, math.nan]),
         "coslow sample must be finite"),
        (lambda: budget_from_auc(1.0, target=0.9), "auc must lie strictly between 0 and 1"),
        (lambda: budget_from_auc(0.5, target=0.9, auc_interval=Interval(0.2, 1.3)),
         "auc interval must lie in"),
        (lambda: BudgetEstimate(0.5, Interval(0.6, 0.7), 1.0, 10.0, Interval(5, 20), 0.9, 5000),
         "does not contain its point"),
    ],
)
def test_invalid_inputs(call: object, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        call()  # type: ignore[operator]
