"""TEMPORARY stand-in for dataeff.efficiency's calibration/uncertainty/verdict modules, used
only while they are not on main yet (conftest installs it when the import fails). It follows
docs/architecture.md's contract with the method's formulas (§6-§7) and simple intervals.
Delete once `git merge main` brings the real modules.
"""

from __future__ import annotations

import math
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from dataeff.efficiency.interval import Interval


@dataclass(frozen=True)
class Calibration:
    name: str
    slope: float
    intercept: float
    slope_se: float
    intercept_se: float
    residual_sd: float
    source: str

    def predict(self, coslow: float) -> float:
        return min(max(self.slope * coslow + self.intercept, 1e-3), 1 - 1e-3)


LLAMA = Calibration("Llama-3.1-8B-Instruct", 0.545, 0.310, 0.005, 0.002, 0.1, "published")
FALLBACK_CALIBRATION = replace(LLAMA, name="fallback", residual_sd=0.13, source="fallback")


def calibration_for(model: str) -> Calibration | None:
    return LLAMA if "llama-3.1-8b" in model.lower() else None


@dataclass(frozen=True)
class BudgetEstimate:
    auc: float
    auc_interval: Interval
    p: float
    examples_needed: float
    examples_needed_interval: Interval
    target: float
    max_budget: int

    def gain(self, n: float, k: float) -> float:
        def f(m: float) -> float:
            return 0.0 if m <= 1 else min(1.0, (math.log2(m) / math.log2(self.max_budget)))
        return f(n + k) ** self.p - f(n) ** self.p


def _needed(auc: float, target: float, max_budget: int) -> float:
    return float(max_budget ** (target ** (auc / (1 - auc))))


def estimate_budget(coslow: float, calibration: Calibration, *, target: float,
                    coslow_samples: Sequence[float] | None = None,
                    coslow_interval: Interval | None = None, level: float = 0.8,
                    max_budget: int = 5000) -> BudgetEstimate:
    auc = calibration.predict(coslow)
    spread = 1.2816 * calibration.residual_sd
    lo, hi = max(1e-3, auc - spread), min(1 - 1e-3, auc + spread)
    needed = _needed(auc, target, max_budget)
    return BudgetEstimate(auc, Interval(lo, hi, level), (1 - auc) / auc, needed,
                          Interval(_needed(hi, target, max_budget),
                                   _needed(lo, target, max_budget), level), target, max_budget)


class VerdictKind(StrEnum):
    COLLECTING = "collecting"
    KEEP_LABELING = "keep_labeling"
    TARGET_REACHED = "target_reached"
    DIMINISHING_RETURNS = "diminishing_returns"
    TARGET_OUT_OF_REACH = "target_out_of_reach"


@dataclass(frozen=True)
class StopCriteria:
    target: float = 0.9
    max_budget: int = 5000
    min_gain: float = 0.01
    gain_step: int = 100
    min_examples: int = 32


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    message: str
    remaining: int | None
    remaining_interval: Interval | None
    needed_low_confidence: int


def decide(estimate: BudgetEstimate | None, *, annotated: int, low_confidence_annotated: int,
           criteria: StopCriteria) -> Verdict:
    if estimate is None or low_confidence_annotated < criteria.min_examples:
        need = max(0, criteria.min_examples - low_confidence_annotated)
        return Verdict(VerdictKind.COLLECTING, f"Collecting: label {need} more of the "
                       "low-confidence tasks served first.", None, None, need)
    n, needed = annotated, estimate.examples_needed
    span = estimate.examples_needed_interval
    remaining = max(0, math.ceil(needed - n))
    interval = Interval(max(0, math.ceil(span.low - n)), max(0, math.ceil(span.high - n)))
    if n >= needed:
        kind = VerdictKind.TARGET_REACHED
    elif needed >= 0.95 * criteria.max_budget:
        kind = VerdictKind.TARGET_OUT_OF_REACH
    elif estimate.gain(n, criteria.gain_step) < criteria.min_gain:
        kind = VerdictKind.DIMINISHING_RETURNS
    else:
        kind = VerdictKind.KEEP_LABELING
    return Verdict(kind, f"{kind.value}: about {remaining} more labeled examples.", remaining,
                   interval, 0)


def install() -> None:
    """Register the stand-in modules under dataeff.efficiency.* if they are missing."""
    try:
        import dataeff.efficiency.verdict  # noqa: F401
        return
    except ImportError:
        pass
    this = sys.modules[__name__]
    for name in ("calibration", "uncertainty", "verdict"):
        module = types.ModuleType(f"dataeff.efficiency.{name}")
        for attr in ("Calibration", "FALLBACK_CALIBRATION", "calibration_for", "BudgetEstimate",
                     "estimate_budget", "VerdictKind", "StopCriteria", "Verdict", "decide"):
            setattr(module, attr, getattr(this, attr))
        sys.modules[module.__name__] = module
