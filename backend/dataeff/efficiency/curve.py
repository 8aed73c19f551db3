"""The predicted learning curve f(x) = x^p and the budget it implies (method §7).

x = log2(max(n, 1)) / log2(N) is the normalized budget in [0, 1] (N = ``max_budget``,
default 5000); f is the normalized performance in [0, 1]: 0 = zero-shot, 1 = ceiling.
p = (1 - AUC) / AUC, so the area under f is 1 / (p + 1) = AUC. A target τ in (0, 1] is a
fraction of the zero-shot -> ceiling gap, reached at x* = τ^(1/p), i.e.
n* = N^(τ^(AUC / (1 - AUC))).

>>> round(examples_needed(0.661, 0.9))
1028
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dataeff.efficiency.checks import (
    check_auc,
    check_count,
    check_max_budget,
    check_target,
    finite,
)
from dataeff.efficiency.metric import DEFAULT_MAX_BUDGET
from dataeff.errors import InvalidInputError

AUC_EPSILON = 1e-3
"""Predicted AUCs are clamped into [ε, 1 - ε] before the curve (method §6, Derived): at the
edges n* is already about 1 or about N (within 1 %) for any target τ >= 0.5."""


def clamp_auc(auc: float) -> float:
    """A predicted AUC (any finite number) clamped into [AUC_EPSILON, 1 - AUC_EPSILON]."""
    return min(1.0 - AUC_EPSILON, max(AUC_EPSILON, finite(auc, "predicted auc")))


def power_exponent(auc: float) -> float:
    """p = (1 - AUC) / AUC for AUC in (0, 1): p > 1 is convex (slow start), p < 1 concave."""
    value = check_auc(auc)
    return (1.0 - value) / value


def x_of_n(n: float, max_budget: int = DEFAULT_MAX_BUDGET) -> float:
    """Normalized budget x = log2(max(n, 1)) / log2(N), clamped to [0, 1] (n >= N gives 1)."""
    count = check_count(n, "n")
    check_max_budget(max_budget)
    return min(1.0, math.log2(max(count, 1.0)) / math.log2(max_budget))


def n_of_x(x: float, max_budget: int = DEFAULT_MAX_BUDGET) -> float:
    """Budget n = N^x for x in [0, 1] (x = 0 gives n = 1, the first example)."""
    value = finite(x, "x")
    if not 0.0 <= value <= 1.0:
        raise InvalidInputError(f"x must lie in [0, 1], got {x!r}")
    check_max_budget(max_budget)
    return float(float(max_budget) ** value)


def examples_needed(auc: float, target: float, max_budget: int = DEFAULT_MAX_BUDGET) -> float:
    """n* = N^(τ^(AUC / (1 - AUC))) in [1, N]: examples to reach the target (method §7).

    Grows with ``target`` and shrinks as ``auc`` grows; τ = 1 always needs N.
    """
    return PowerCurve(auc, max_budget).examples_needed(target)


def predicted_gain(
    auc: float, n: float, k: float, max_budget: int = DEFAULT_MAX_BUDGET
) -> float:
    """f(x(n + k)) - f(x(n)) in [0, 1]: the predicted gain of labeling ``k`` more at ``n``."""
    return PowerCurve(auc, max_budget).gain(n, k)


@dataclass(frozen=True)
class PowerCurve:
    """f(x) = x^p with p = (1 - AUC) / AUC over budgets 0 … ``max_budget`` (method §7)."""

    auc: float
    max_budget: int = DEFAULT_MAX_BUDGET

    def __post_init__(self) -> None:
        check_auc(self.auc)
        check_max_budget(self.max_budget)

    @property
    def p(self) -> float:
        return power_exponent(self.auc)

    def f(self, x: float) -> float:
        """Normalized performance x^p at normalized budget x in [0, 1]."""
        value = finite(x, "x")
        if not 0.0 <= value <= 1.0:
            raise InvalidInputError(f"x must lie in [0, 1], got {x!r}")
        return float(value**self.p)

    def performance_at(self, n: float) -> float:
        """Predicted normalized performance after ``n`` labeled examples, in [0, 1]."""
        return self.f(x_of_n(n, self.max_budget))

    def x_needed(self, target: float) -> float:
        """x* = τ^(1/p) = τ^(AUC / (1 - AUC)), in (0, 1]."""
        tau = check_target(target)
        return math.exp(math.log(tau) * self.auc / (1.0 - self.auc))

    def examples_needed(self, target: float) -> float:
        """n* = N^(x*) in [1, N]."""
        return n_of_x(self.x_needed(target), self.max_budget)

    def gain(self, n: float, k: float) -> float:
        """f(x(n + k)) - f(x(n)) >= 0 for ``k`` >= 0 more examples at ``n`` annotated."""
        start = check_count(n, "n")
        more = check_count(k, "k")
        return self.performance_at(start + more) - self.performance_at(start)
