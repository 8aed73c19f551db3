"""From CoS-Low and counts to the estimate JSON (method §6-§7.1, architecture "estimate").

The only service module that talks to :mod:`dataeff.efficiency`: calibration lookup
(``FALLBACK_CALIBRATION`` for uncalibrated models, reported as ``"calibration": null``),
:func:`estimate_budget` for n*(τ) with its range, :func:`decide` for the verdict, and the
predicted curve f̂(n) = (log₂ n / log₂ N)^p on the budget grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dataeff.efficiency.calibration import FALLBACK_CALIBRATION, calibration_for
from dataeff.efficiency.curve import PowerCurve
from dataeff.efficiency.uncertainty import BudgetEstimate, estimate_budget
from dataeff.efficiency.verdict import StopCriteria, decide
from dataeff.estimator.bank import CosLow
from dataeff.labelstudio.params import ProjectParams

CURVE_GRID = (0, 50, 100, 200, 500, 1000, 2500, 5000)


@dataclass(frozen=True)
class Counts:
    """Pool counts of one project (all >= 0)."""

    tasks: int
    scored: int
    annotated: int
    low_confidence: int
    low_confidence_annotated: int

    def as_dict(self, needed_low_confidence: int) -> dict[str, int]:
        return {"tasks": self.tasks, "scored": self.scored, "annotated": self.annotated,
                "low_confidence": self.low_confidence,
                "low_confidence_annotated": self.low_confidence_annotated,
                "needed_low_confidence": needed_low_confidence}


def build_estimate(coslow: CosLow | None, counts: Counts, params: ProjectParams,
                   model_name: str | None) -> dict[str, Any]:
    """The estimate body (architecture's JSON without project/state/ids/history)."""
    criteria = StopCriteria(**params.criteria())
    calibration = calibration_for(model_name) if model_name else None
    budget: BudgetEstimate | None = None
    if coslow is not None:
        budget = estimate_budget(coslow.value, calibration or FALLBACK_CALIBRATION,
                                 target=params.target, coslow_samples=coslow.samples,
                                 coslow_interval=coslow.interval, max_budget=params.max_budget)
    verdict = decide(budget, annotated=counts.annotated,
                     low_confidence_annotated=counts.low_confidence_annotated,
                     criteria=criteria)
    return {
        "verdict": str(verdict.kind.value),
        "message": verdict.message,
        "provisional": budget is not None and counts.low_confidence_annotated
        < params.min_examples,
        "examples_needed": None if budget is None else round(budget.examples_needed, 1),
        "examples_needed_interval": None if budget is None
        else _pair(budget.examples_needed_interval.as_list(), 1),
        "remaining": verdict.remaining,
        "remaining_interval": None if verdict.remaining_interval is None
        else [round(v) for v in verdict.remaining_interval.as_list()],
        "coslow": None if coslow is None else round(coslow.value, 6),
        "coslow_interval": None if coslow is None else _pair(coslow.interval.as_list(), 6),
        "auc": None if budget is None else round(budget.auc, 6),
        "auc_interval": None if budget is None else _pair(budget.auc_interval.as_list(), 6),
        "calibration": None if calibration is None else calibration.name,
        "counts": counts.as_dict(verdict.needed_low_confidence),
        "criteria": params.criteria(),
        "curve": None if budget is None else curve(PowerCurve(budget.auc, params.max_budget)),
    }


def curve(power: PowerCurve) -> list[list[float]]:
    """Predicted normalized performance ``[[n, f̂(n)], ...]`` on the grid up to N (§7)."""
    grid = sorted({n for n in CURVE_GRID if n <= power.max_budget} | {power.max_budget})
    return [[float(n), round(power.performance_at(n), 6)] for n in grid]


def _pair(values: list[float], digits: int) -> list[float]:
    return [round(values[0], digits), round(values[1], digits)]
