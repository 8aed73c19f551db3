"""A range around a point estimate: no figure is reported without one."""

from __future__ import annotations

import math
from dataclasses import dataclass

from dataeff.errors import InvalidInputError


@dataclass(frozen=True)
class Interval:
    """A closed range ``[low, high]`` with its nominal coverage ``level`` in (0, 1)."""

    low: float
    high: float
    level: float = 0.8

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise InvalidInputError(f"interval bounds must be finite: [{self.low}, {self.high}]")
        if self.low > self.high:
            raise InvalidInputError(f"interval low {self.low} exceeds high {self.high}")
        if not 0.0 < self.level < 1.0:
            raise InvalidInputError(f"interval level must lie in (0, 1), got {self.level}")

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def widened_to(self, value: float) -> Interval:
        """The smallest interval holding both this one and ``value``."""
        return Interval(min(self.low, value), max(self.high, value), self.level)

    def as_list(self) -> list[float]:
        return [self.low, self.high]
