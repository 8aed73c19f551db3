"""Validation of the numbers the efficiency layer takes: errors name the parameter and value."""

from __future__ import annotations

import math
import numbers

from dataeff.errors import InvalidInputError


def finite(value: object, name: str) -> float:
    """``value`` as a float (any real number type, not bool) if finite, else InvalidInputError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInputError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInputError(f"{name} must be finite, got {value!r}")
    return number


def check_auc(auc: float, name: str = "auc") -> float:
    """``auc`` as a float strictly inside (0, 1), else InvalidInputError naming ``name``."""
    value = finite(auc, name)
    if not 0.0 < value < 1.0:
        raise InvalidInputError(f"{name} must lie strictly between 0 and 1, got {auc!r}")
    return value


def check_target(target: float, name: str = "target") -> float:
    """The target τ as a float in (0, 1], else InvalidInputError naming ``name``."""
    value = finite(target, name)
    if not 0.0 < value <= 1.0:
        raise InvalidInputError(f"{name} must lie in (0, 1], got {target!r}")
    return value


def check_count(count: float, name: str) -> float:
    """A number of examples: finite and >= 0, else InvalidInputError naming ``name``."""
    value = finite(count, name)
    if value < 0:
        raise InvalidInputError(f"{name} must be >= 0, got {count!r}")
    return value


def check_max_budget(max_budget: object, name: str = "max_budget") -> int:
    """The curve's N: an integer >= 2 (log2 N > 0), else InvalidInputError."""
    if (
        isinstance(max_budget, bool)
        or not isinstance(max_budget, numbers.Integral)
        or max_budget < 2
    ):
        raise InvalidInputError(f"{name} must be an integer >= 2, got {max_budget!r}")
    return int(max_budget)


def check_level(level: float, name: str = "level") -> float:
    """A nominal interval coverage in (0, 1) (default in the layer: 0.8)."""
    value = finite(level, name)
    if not 0.0 < value < 1.0:
        raise InvalidInputError(f"{name} must lie strictly between 0 and 1, got {level!r}")
    return value


def check_coslow(coslow: float, name: str = "coslow") -> float:
    """A CoS-Low value: a cosine (median of cosines) in [-1, 1] (method §5)."""
    value = finite(coslow, name)
    if not -1.0 <= value <= 1.0:
        raise InvalidInputError(f"{name} must lie in [-1, 1] (a cosine), got {coslow!r}")
    return value
