"""Hypothesis properties of the efficiency math (method §2, §7, §9)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dataeff.efficiency import (
    Calibration,
    Interval,
    PowerCurve,
    StopCriteria,
    curve_auc,
    decide,
    estimate_budget,
    examples_needed,
    n_of_x,
    x_of_n,
)
from dataeff.errors import InvalidInputError

BUDGETS = (4, 32, 50, 100, 200, 500, 750, 1000, 2200, 2500, 4000, 4880, 5000, 8000)
accuracy = st.floats(0.0, 1.0, allow_nan=False)
auc_values = st.floats(0.01, 0.99)
targets = st.floats(0.05, 1.0)


@st.composite
def curves(draw: st.DrawFn) -> tuple[dict[str, dict[str, float]], float | None]:
    budgets = draw(st.sets(st.sampled_from(BUDGETS), min_size=1))
    curve = {str(n): {"accuracy": draw(accuracy)} for n in sorted(budgets)}
    curve["0"] = {"accuracy": draw(accuracy)}
    human = draw(st.none() | accuracy)
    return curve, human


@given(curves())
def test_auc_in_unit_interval_with_monotone_envelope(
    drawn: tuple[dict[str, dict[str, float]], float | None],
) -> None:
    curve, human = drawn
    kept = [v["accuracy"] for k, v in curve.items() if k == "0" or 50 <= int(k) <= 5000]
    assume(len(kept) >= 2)
    assume(max([*kept, human or 0.0]) > curve["0"]["accuracy"])
    result = curve_auc(curve, human_score=human)
    assert 0.0 <= result.auc <= 1.0
    xs = [x for _, x, _ in result.points]
    ys = [y for _, _, y in result.points]
    assert xs[0] == 0.0 and xs[-1] == 1.0 and xs == sorted(set(xs))
    assert all(0.0 <= y <= 1.0 for y in ys) and ys == sorted(ys)
    assert result.ceiling >= result.max_acc >= result.min_acc


@given(st.floats(0.05, 0.95))
def test_area_under_the_power_curve_equals_the_auc(auc: float) -> None:
    curve = PowerCurve(auc)
    x = np.linspace(0.0, 1.0, 20_001)
    area = float(np.trapezoid(x**curve.p, x))
    assert area == pytest.approx(auc, abs=1e-3)
    assert curve.f(0.5) == 0.5**curve.p


@given(auc_values, targets, targets)
def test_examples_needed_grows_with_the_target(auc: float, t1: float, t2: float) -> None:
    low, high = sorted((t1, t2))
    assert 1.0 <= examples_needed(auc, low) <= examples_needed(auc, high) <= 5000.0 + 1e-9


@given(auc_values, auc_values, targets)
def test_examples_needed_shrinks_as_auc_grows(a1: float, a2: float, target: float) -> None:
    low, high = sorted((a1, a2))
    assert examples_needed(low, target) >= examples_needed(high, target)


@given(st.floats(1.0, 5000.0), st.integers(2, 100_000))
def test_budget_inversion_round_trips(n: float, max_budget: int) -> None:
    assume(n <= max_budget)
    assert n_of_x(x_of_n(n, max_budget), max_budget) == pytest.approx(n, rel=1e-9)


@given(
    st.floats(-1.0, 1.0),
    st.builds(
        Calibration, name=st.just("h"), slope=st.floats(-2.0, 2.0),
        intercept=st.floats(-1.0, 1.0), slope_se=st.floats(0, 0.2),
        intercept_se=st.floats(0, 0.2), residual_sd=st.floats(0, 0.3), source=st.just("test"),
    ),
    st.none() | st.lists(st.floats(-1.0, 1.0), min_size=2, max_size=20),
    st.tuples(st.floats(0.05, 0.99), targets, st.integers(0, 10_000)),
)
def test_every_interval_contains_its_point(
    coslow: float, calibration: Calibration, samples: list[float] | None,
    settings: tuple[float, float, int],
) -> None:
    level, target, annotated = settings
    estimate = estimate_budget(coslow, calibration, target=target, coslow_samples=samples,
                               level=level)
    assert estimate.auc_interval.contains(estimate.auc)
    assert estimate.examples_needed_interval.contains(estimate.examples_needed)
    assert estimate.coslow_interval is None or estimate.coslow_interval.contains(coslow)
    verdict = decide(estimate, annotated=annotated, low_confidence_annotated=32,
                     criteria=StopCriteria(target=target))
    assert verdict.remaining == max(0, math.ceil(estimate.examples_needed - annotated))
    span = estimate.examples_needed_interval
    assert verdict.remaining_interval == Interval(
        max(0, math.ceil(span.low - annotated)), max(0, math.ceil(span.high - annotated)), level)
    assert verdict.remaining_interval.contains(verdict.remaining)


@given(st.one_of(st.floats(max_value=0.0), st.floats(min_value=1.0),
                 st.sampled_from([math.nan, math.inf])))
def test_auc_outside_unit_interval_is_rejected(auc: float) -> None:
    with pytest.raises(InvalidInputError, match="auc"):
        examples_needed(auc, 0.9)


@given(st.one_of(st.floats(max_value=0.0), st.floats(min_value=1.0, exclude_min=True),
                 st.sampled_from([math.nan, -math.inf])))
def test_target_outside_range_is_rejected(target: float) -> None:
    with pytest.raises(InvalidInputError, match="target"):
        examples_needed(0.5, target)


@given(st.integers(max_value=-1))
def test_negative_counts_are_rejected(count: int) -> None:
    estimate = estimate_budget(0.4, Calibration("h", 0.5, 0.3, 0, 0, 0.1, "t"), target=0.9)
    with pytest.raises(InvalidInputError, match="annotated"):
        decide(estimate, annotated=count, low_confidence_annotated=32, criteria=StopCriteria())


@given(st.floats(allow_nan=False), st.floats(allow_nan=False))
def test_intervals_reject_reversed_bounds(a: float, b: float) -> None:
    assume(a > b)
    with pytest.raises(InvalidInputError):
        Interval(a, b)
