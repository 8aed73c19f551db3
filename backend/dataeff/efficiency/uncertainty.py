"""Predicted AUC and examples needed, each with its range (method §6, §7, §9).

The AUC variance combines, as independent normal terms (Derived):

    var(AUC') = slope² · var(CoS-Low) + CoS-Low² · slope_se² + intercept_se² + residual_sd²

var(CoS-Low) comes from its samples (e.g. bootstrap medians: their sample variance) or from
an interval (half-width / z at the interval's level); with both, the larger is used; with
neither it is 0. Ignoring the covariance of slope and intercept overstates the variance for
CoS-Low > 0 (their OLS covariance is negative there), so the range errs on the wide side.
The AUC interval is the normal interval at ``level`` (default 0.8), clamped into (0, 1); the
interval of n* follows by monotonicity (n* falls as AUC rises). Everything is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from statistics import NormalDist
from typing import Any

import numpy as np

from dataeff.efficiency.calibration import Calibration
from dataeff.efficiency.checks import (
    check_auc,
    check_coslow,
    check_level,
    check_max_budget,
    check_target,
)
from dataeff.efficiency.curve import PowerCurve, clamp_auc
from dataeff.efficiency.interval import Interval
from dataeff.efficiency.metric import DEFAULT_MAX_BUDGET
from dataeff.errors import InvalidInputError

DEFAULT_LEVEL = 0.8


def z_value(level: float) -> float:
    """The two-sided standard-normal quantile for coverage ``level``: 1.2816 at 0.8."""
    return NormalDist().inv_cdf(0.5 + check_level(level) / 2.0)


@dataclass(frozen=True)
class BudgetEstimate:
    """A predicted AUC and the examples needed for ``target``, each with an interval.

    ``auc`` in (0, 1); ``p`` = (1 - auc) / auc; ``examples_needed`` = n* in [1, max_budget];
    both intervals contain their point and share one level. ``coslow``, ``coslow_interval``
    and ``calibration`` (its name) record what a CoS-Low estimate came from.
    """

    auc: float
    auc_interval: Interval
    p: float
    examples_needed: float
    examples_needed_interval: Interval
    target: float
    max_budget: int
    coslow: float | None = None
    coslow_interval: Interval | None = None
    calibration: str | None = None

    def __post_init__(self) -> None:
        check_auc(self.auc)
        for name, point, interval in (
            ("auc", self.auc, self.auc_interval),
            ("examples_needed", self.examples_needed, self.examples_needed_interval),
        ):
            if not interval.contains(point):
                raise InvalidInputError(
                    f"{name} interval {interval.as_list()} does not contain its point {point}"
                )

    @property
    def level(self) -> float:
        return self.auc_interval.level

    def gain(self, n: float, k: float) -> float:
        """Predicted gain f(x(n + k)) - f(x(n)) of labeling ``k`` more at ``n``."""
        return PowerCurve(self.auc, self.max_budget).gain(n, k)

    def curve(self, n_points: int = 33) -> tuple[tuple[int, float, float, float], ...]:
        """The predicted curve with its band for plots: (n, f, f_low, f_high) rows.

        n runs from 0 to ``max_budget`` evenly on the log2 axis (distinct integers, at most
        ``n_points`` >= 2 of them); f_low / f_high use the AUC interval's ends.
        """
        if isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 2:
            raise InvalidInputError(f"n_points must be an integer >= 2, got {n_points!r}")
        curves = [PowerCurve(a, self.max_budget) for a in (
            self.auc, self.auc_interval.low, self.auc_interval.high
        )]
        steps = np.linspace(0.0, 1.0, n_points)[1:]
        budgets = sorted({0, *(round(self.max_budget**s) for s in steps)})
        rows = []
        for n in budgets:
            f, f_low, f_high = (c.performance_at(n) for c in curves)
            rows.append((n, f, f_low, f_high))
        return tuple(rows)

    def retarget(self, target: float, max_budget: int | None = None) -> BudgetEstimate:
        """The same AUC and interval for another target (and curve range)."""
        other = budget_from_auc(
            self.auc, target=target, auc_interval=self.auc_interval,
            max_budget=self.max_budget if max_budget is None else max_budget,
        )
        return replace(
            other, coslow=self.coslow, coslow_interval=self.coslow_interval,
            calibration=self.calibration,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields; intervals as [low, high]."""
        return {
            "auc": self.auc, "auc_interval": self.auc_interval.as_list(), "p": self.p,
            "examples_needed": self.examples_needed,
            "examples_needed_interval": self.examples_needed_interval.as_list(),
            "target": self.target, "max_budget": self.max_budget, "level": self.level,
            "coslow": self.coslow,
            "coslow_interval": None if self.coslow_interval is None
            else self.coslow_interval.as_list(),
            "calibration": self.calibration,
        }


def budget_from_auc(
    auc: float,
    *,
    target: float,
    auc_interval: Interval | None = None,
    level: float = DEFAULT_LEVEL,
    max_budget: int = DEFAULT_MAX_BUDGET,
) -> BudgetEstimate:
    """n* = N^(τ^(AUC/(1-AUC))) for ``auc`` in (0, 1), with its interval (method §7).

    Without ``auc_interval`` the AUC counts as exact: the intervals are the points themselves
    (at ``level``). A given interval must lie in [0, 1]; its ends are clamped into (0, 1),
    it is widened to hold ``auc``, and its level carries over to n*.
    """
    point = check_auc(auc)
    tau = check_target(target)
    budget = check_max_budget(max_budget)
    if auc_interval is None:
        auc_interval = Interval(point, point, check_level(level))
    elif auc_interval.low < 0.0 or auc_interval.high > 1.0:
        raise InvalidInputError(f"auc interval must lie in [0, 1], got {auc_interval.as_list()}")
    auc_interval = Interval(
        clamp_auc(auc_interval.low), clamp_auc(auc_interval.high), auc_interval.level
    ).widened_to(point)
    needed = PowerCurve(point, budget).examples_needed(tau)
    needed_interval = Interval(
        PowerCurve(auc_interval.high, budget).examples_needed(tau),
        PowerCurve(auc_interval.low, budget).examples_needed(tau),
        auc_interval.level,
    ).widened_to(needed)
    return BudgetEstimate(
        auc=point, auc_interval=auc_interval, p=(1.0 - point) / point,
        examples_needed=needed, examples_needed_interval=needed_interval,
        target=tau, max_budget=budget,
    )


def estimate_budget(
    coslow: float,
    calibration: Calibration,
    *,
    target: float,
    coslow_samples: Sequence[float] | None = None,
    coslow_interval: Interval | None = None,
    level: float = DEFAULT_LEVEL,
    max_budget: int = DEFAULT_MAX_BUDGET,
) -> BudgetEstimate:
    """The budget for a measured CoS-Low under ``calibration`` (method §6-§7, §9).

    ``coslow`` in [-1, 1]; ``coslow_samples`` (>= 2 values in [-1, 1], e.g. bootstrap
    medians) and/or ``coslow_interval`` give its spread. Returns a :class:`BudgetEstimate`
    whose AUC interval combines that spread, the coefficients' standard errors and the
    calibration's leave-one-out error at ``level`` (default 0.8).
    """
    value = check_coslow(coslow)
    z = z_value(level)
    variance = _coslow_variance(coslow_samples, coslow_interval)
    total = (
        calibration.slope**2 * variance
        + value**2 * calibration.slope_se**2
        + calibration.intercept_se**2
        + calibration.residual_sd**2
    )
    raw = calibration.predict_raw(value)
    half = z * math.sqrt(total)
    auc_interval = Interval(clamp_auc(raw - half), clamp_auc(raw + half), level)
    estimate = budget_from_auc(
        calibration.predict(value), target=target, auc_interval=auc_interval,
        max_budget=max_budget,
    )
    return replace(
        estimate, coslow=value,
        coslow_interval=coslow_interval or _samples_interval(value, coslow_samples, level),
        calibration=calibration.name,
    )


def _coslow_variance(samples: Sequence[float] | None, interval: Interval | None) -> float:
    variance = 0.0
    if samples is not None:
        values = [check_coslow(s, "coslow sample") for s in samples]
        if len(values) < 2:
            raise InvalidInputError(f"coslow_samples needs at least 2 values, got {len(values)}")
        variance = float(np.var(values, ddof=1))
    if interval is not None:
        check_coslow(interval.low, "coslow interval low")
        check_coslow(interval.high, "coslow interval high")
        sd = (interval.high - interval.low) / (2.0 * z_value(interval.level))
        variance = max(variance, sd**2)
    return variance


def _samples_interval(
    value: float, samples: Sequence[float] | None, level: float
) -> Interval | None:
    """The central ``level`` percentile interval of the samples, widened to hold ``value``."""
    if samples is None:
        return None
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(np.asarray(samples, dtype=np.float64), [tail, 100.0 - tail])
    return Interval(float(low), float(high), level).widened_to(value)
