"""The power curve x^p and examples needed (method §7)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dataeff.efficiency import (
    AUC_EPSILON,
    Calibration,
    PowerCurve,
    clamp_auc,
    examples_needed,
    n_of_x,
    power_exponent,
    predicted_gain,
    x_of_n,
)
from dataeff.errors import InvalidInputError


def test_worked_example_needs_1028_examples() -> None:
    # method §7: CoS-Low 0.65, coefficients (0.54, 0.31), τ = 0.9 -> n* ≈ 1028
    line = Calibration("readme", 0.54, 0.31, 0.0, 0.0, 0.0, "test")
    auc = line.predict(0.65)
    assert auc == pytest.approx(0.661)
    assert power_exponent(auc) == pytest.approx(0.5129, abs=1e-4)
    assert auc / (1 - auc) == pytest.approx(1.950, abs=1e-3)
    assert PowerCurve(auc).x_needed(0.9) == pytest.approx(0.8143, abs=1e-4)
    assert abs(examples_needed(auc, 0.9) - 1028) <= 1


@pytest.mark.parametrize(
    ("auc", "row"),
    [
        (0.2, (1290, 3150, 4007, 4486)),
        (0.5, (71, 910, 2133, 3266)),
        (0.8, (2, 33, 267, 1030)),
    ],
)
def test_lookup_table_of_method_7(auc: float, row: tuple[int, ...]) -> None:
    got = [round(examples_needed(auc, tau)) for tau in (0.5, 0.8, 0.9, 0.95)]
    assert got == list(row)


def test_grid_positions_on_the_x_axis() -> None:
    table = {0: 0.0, 50: 0.4593, 100: 0.5407, 200: 0.6221, 500: 0.7297, 1000: 0.8110,
             2500: 0.9186, 5000: 1.0}
    assert {n: round(x_of_n(n), 4) for n in table} == table
    assert x_of_n(20000) == 1.0
    assert x_of_n(0.5) == 0.0


def test_n_and_x_are_inverse() -> None:
    for n in (1, 7, 50, 333, 4999, 5000):
        assert n_of_x(x_of_n(n)) == pytest.approx(n)
    assert n_of_x(0.5, max_budget=10_000) == pytest.approx(100.0)


def test_full_target_needs_the_whole_budget() -> None:
    assert examples_needed(0.3, 1.0) == pytest.approx(5000)
    assert examples_needed(0.3, 1.0, max_budget=800) == pytest.approx(800)


def test_curve_values_and_gain() -> None:
    curve = PowerCurve(0.25)  # p = 3
    assert curve.p == pytest.approx(3.0)
    assert curve.f(0.5) == pytest.approx(0.125)
    assert curve.performance_at(0) == 0.0
    assert curve.performance_at(5000) == 1.0
    x_a, x_b = x_of_n(100), x_of_n(200)
    assert curve.gain(100, 100) == pytest.approx(x_b**3 - x_a**3)
    assert predicted_gain(0.25, 100, 100) == curve.gain(100, 100)
    assert curve.gain(100, 0) == 0.0
    assert curve.gain(6000, 100) == 0.0


def test_area_under_the_curve_is_the_auc() -> None:
    x = np.linspace(0, 1, 200_001)
    for auc in (0.1, 0.5, 0.9):
        curve = PowerCurve(auc)
        area = float(np.trapezoid([curve.f(float(v)) for v in x[::100]], x[::100]))
        assert area == pytest.approx(auc, abs=2e-3)


def test_clamp_auc() -> None:
    assert clamp_auc(1.3) == 1 - AUC_EPSILON
    assert clamp_auc(-0.2) == AUC_EPSILON
    assert clamp_auc(0.4) == 0.4


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: examples_needed(0.0, 0.9), "auc must lie strictly between 0 and 1, got 0.0"),
        (lambda: examples_needed(1.0, 0.9), "auc must lie strictly between 0 and 1"),
        (lambda: examples_needed(0.5, 0.0), r"target must lie in \(0, 1\], got 0.0"),
        (lambda: examples_needed(0.5, 1.2), "target"),
        (lambda: examples_needed(math.nan, 0.9), "auc must be finite"),
        (lambda: examples_needed("0.5", 0.9), "auc must be a number"),  # type: ignore[arg-type]
        (lambda: examples_needed(0.5, 0.9, max_budget=1), "max_budget must be an integer >= 2"),
        (lambda: examples_needed(0.5, 0.9, max_budget=50.5), "max_budget"),  # type: ignore[arg-type]
        (lambda: x_of_n(-1), "n must be >= 0, got -1"),
        (lambda: n_of_x(1.5), "x must lie in"),
        (lambda: PowerCurve(0.5).gain(10, -5), "k must be >= 0"),
        (lambda: PowerCurve(0.5).f(-0.1), "x must lie in"),
        (lambda: clamp_auc(math.inf), "predicted auc must be finite"),
    ],
)
def test_invalid_inputs_raise_clear_errors(call: object, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        call()  # type: ignore[operator]


def test_numpy_scalars_are_accepted() -> None:
    assert examples_needed(np.float32(0.5), np.float64(0.9), np.int64(5000)) == pytest.approx(
        examples_needed(0.5, 0.9)
    )


def test_docstring_examples() -> None:
    import doctest

    from dataeff.efficiency import curve

    result = doctest.testmod(curve)
    assert result.attempted >= 1 and result.failed == 0
