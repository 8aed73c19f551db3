"""Stop verdicts for annotators: keep labeling, or stop and why (method §7.1, Derived).

Order (docs/architecture.md, Decisions): ``collecting`` while fewer than ``min_examples``
low-confidence examples are labeled -> ``target_reached`` (annotated >= n*) ->
``target_out_of_reach`` (n* >= 0.95 · max_budget: beyond the calibrated range) ->
``diminishing_returns`` (f(x(n + K)) - f(x(n)) < min_gain) -> ``keep_labeling`` with
remaining = ceil(n* - n) and its range. Each verdict carries one plain sentence.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dataeff.efficiency.checks import check_max_budget, check_target, finite
from dataeff.efficiency.interval import Interval
from dataeff.efficiency.uncertainty import BudgetEstimate
from dataeff.errors import ConfigError, InvalidInputError

OUT_OF_REACH_FRACTION = 0.95
"""n* at or above this fraction of max_budget is "beyond the calibrated range" (method §7.1)."""


class VerdictKind(StrEnum):
    COLLECTING = "collecting"
    KEEP_LABELING = "keep_labeling"
    TARGET_REACHED = "target_reached"
    DIMINISHING_RETURNS = "diminishing_returns"
    TARGET_OUT_OF_REACH = "target_out_of_reach"


@dataclass(frozen=True)
class StopCriteria:
    """A project's stop criteria; invalid values raise ConfigError naming the field.

    ``target`` τ in (0, 1]: fraction of the zero-shot -> ceiling gap; ``max_budget`` (>= 2):
    the curve's N; ``min_gain`` in [0, 1]: minimal useful gain in normalized performance per
    ``gain_step`` (>= 1) more labeled examples; ``min_examples`` (>= 2): low-confidence
    examples needed before any verdict (method §4: 32).
    """

    target: float = 0.9
    max_budget: int = 5000
    min_gain: float = 0.01
    gain_step: int = 100
    min_examples: int = 32

    def __post_init__(self) -> None:
        try:
            check_target(self.target)
            check_max_budget(self.max_budget)
            gain = finite(self.min_gain, "min_gain")
        except InvalidInputError as error:
            raise ConfigError(str(error)) from None
        if not 0.0 <= gain <= 1.0:
            raise ConfigError(f"min_gain must lie in [0, 1], got {self.min_gain!r}")
        for name, lowest in (("gain_step", 1), ("min_examples", 2)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or (
                value < lowest
            ):
                raise ConfigError(f"{name} must be an integer >= {lowest}, got {value!r}")


@dataclass(frozen=True)
class Verdict:
    """What to tell annotators: ``kind``, one sentence, and the remaining count with its range.

    ``remaining``/``remaining_interval``: further labeled examples needed for the target
    (None while collecting); ``needed_low_confidence`` > 0 only while collecting.
    """

    kind: VerdictKind
    message: str
    remaining: int | None
    remaining_interval: Interval | None
    needed_low_confidence: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.kind.value, "message": self.message, "remaining": self.remaining,
            "remaining_interval": None if self.remaining_interval is None
            else self.remaining_interval.as_list(),
            "needed_low_confidence": self.needed_low_confidence,
        }


def decide(
    estimate: BudgetEstimate | None,
    *,
    annotated: int,
    low_confidence_annotated: int,
    criteria: StopCriteria,
) -> Verdict:
    """The verdict for ``annotated`` labeled examples (``low_confidence_annotated`` of them
    from the low-confidence set) under ``criteria``; counts must be integers >= 0.

    An estimate made for another target or max_budget is recomputed for ``criteria`` from its
    AUC and AUC interval.
    """
    n = _count(annotated, "annotated")
    low = _count(low_confidence_annotated, "low_confidence_annotated")
    if estimate is None or low < criteria.min_examples:
        return _collecting(low, criteria)
    if (estimate.target, estimate.max_budget) != (criteria.target, criteria.max_budget):
        estimate = estimate.retarget(criteria.target, criteria.max_budget)
    needed, span = estimate.examples_needed, estimate.examples_needed_interval
    remaining = max(0, math.ceil(needed - n))
    remaining_interval = Interval(
        max(0, math.ceil(span.low - n)), max(0, math.ceil(span.high - n)), span.level
    )
    goal = f"{_percent(criteria.target)} of the achievable gain"
    about = f"about {_count_text(needed)}"
    span_text = _range_text(span.low, span.high)

    if n >= needed:
        kind = VerdictKind.TARGET_REACHED
        message = (
            f"The {n:,} labeled examples should already reach {goal} ({about} "
            f"needed, {span_text}), so more labeling is unlikely to help."
        )
    elif needed >= OUT_OF_REACH_FRACTION * criteria.max_budget:
        kind = VerdictKind.TARGET_OUT_OF_REACH
        message = (
            f"Reaching {goal} is predicted to take {about} labeled examples ({span_text}), at "
            f"the end of the {_count_text(criteria.max_budget)} the method is calibrated for, "
            "so the target is likely out of reach."
        )
    elif (gain := estimate.gain(n, criteria.gain_step)) < criteria.min_gain:
        kind = VerdictKind.DIMINISHING_RETURNS
        message = (
            f"The next {_count_text(criteria.gain_step)} labeled examples are predicted to add "
            f"{_small_percent(gain)} of the achievable gain (below the "
            f"{_percent(criteria.min_gain)} threshold), so more labeling is unlikely to help; "
            f"{goal} would take about {_count_text(remaining)} more "
            f"({_range_text(remaining_interval.low, remaining_interval.high)})."
        )
    else:
        kind = VerdictKind.KEEP_LABELING
        message = (
            f"Keep labeling: about {_count_text(remaining)} more labeled "
            f"{_examples(remaining)} "
            f"({_range_text(remaining_interval.low, remaining_interval.high)}) should reach "
            f"{goal}."
        )
    return Verdict(kind, message, remaining, remaining_interval, 0)


def _collecting(low: int, criteria: StopCriteria) -> Verdict:
    needed = max(0, criteria.min_examples - low)
    if needed > 0:
        message = (
            f"Label {needed} more of the least-confident examples, which are shown first "
            f"({low} of {criteria.min_examples} done), before dataeff can predict how many "
            "examples this task needs."
        )
    else:
        message = (
            f"All {criteria.min_examples} least-confident examples needed are labeled; the "
            "first estimate is being computed."
        )
    return Verdict(VerdictKind.COLLECTING, message, None, None, needed)


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise InvalidInputError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


def rounded(value: float) -> int:
    """Counts for people: exact below 100, else two significant figures (812 -> 810)."""
    if value < 100:
        return round(value)
    scale = int(10 ** (len(str(int(value))) - 2))
    return round(value / scale) * scale


def _count_text(value: float) -> str:
    return f"{rounded(value):,}"


def _range_text(low: float, high: float) -> str:
    """"range 260–2,000"; "no range given" when the AUC came without one (zero width)."""
    if low == high:
        return "no range given"
    if rounded(low) == rounded(high):
        return f"range {math.floor(low):,}–{math.ceil(high):,}"
    return f"range {_count_text(low)}–{_count_text(high)}"


def _examples(count: float) -> str:
    return "example" if rounded(count) == 1 else "examples"


def _percent(fraction: float) -> str:
    """0.9 -> "90%", 0.925 -> "92.5%", 0.004 -> "0.4%" (never exponent notation)."""
    text = f"{fraction * 100:.3g}"
    if "e" in text:
        text = f"{fraction * 100:.12f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _small_percent(fraction: float) -> str:
    """A predicted gain: "only 0.43%", or "less than 0.01%" when tiny."""
    return "less than 0.01%" if fraction < 1e-4 else f"only {fraction * 100:.2g}%"
