"""dataeff.efficiency: the data-efficiency math, pure: standard library and numpy only, no I/O.

Files are read and written one layer up, by :mod:`dataeff.datafiles`, which hands the parsed
data to the pure functions here (``curve_auc``, ``calibrations_from_data``, ``pairs_from_csv``,
``pairs_from_data``) and writes what ``calibrations_to_data`` returns.

- :mod:`~dataeff.efficiency.metric`: the reference AUC of a fine-tuning curve (method §2).
- :mod:`~dataeff.efficiency.curve`: the power curve x^p and examples needed (method §7).
- :mod:`~dataeff.efficiency.calibration`: CoS-Low -> AUC lines, published and from data (§6).
- :mod:`~dataeff.efficiency.calibration_fit`: leave-one-task-out OLS recalibration (§6, §8).
- :mod:`~dataeff.efficiency.uncertainty`: AUC and budget with their ranges (§9).
- :mod:`~dataeff.efficiency.verdict`: stop criteria and verdicts for annotators (§7.1).
"""

from dataeff.efficiency.calibration import (
    DEFAULT_REGISTRY,
    FALLBACK_CALIBRATION,
    PUBLISHED_CALIBRATIONS,
    Calibration,
    CalibrationRegistry,
    calibration_for,
    calibrations_from_data,
    calibrations_to_data,
    get_calibration,
)
from dataeff.efficiency.calibration_fit import (
    CalibrationFit,
    CalibrationPair,
    HeldOut,
    fit_calibration,
    mean_baseline_mae,
    pairs_from_csv,
    pairs_from_data,
    pairs_from_rows,
    spearman,
)
from dataeff.efficiency.curve import (
    AUC_EPSILON,
    PowerCurve,
    clamp_auc,
    examples_needed,
    n_of_x,
    power_exponent,
    predicted_gain,
    x_of_n,
)
from dataeff.efficiency.interval import Interval
from dataeff.efficiency.metric import (
    DEFAULT_MAX_BUDGET,
    GENERATION_TASKS,
    GRID,
    CurveAuc,
    curve_auc,
)
from dataeff.efficiency.uncertainty import (
    DEFAULT_LEVEL,
    BudgetEstimate,
    budget_from_auc,
    estimate_budget,
)
from dataeff.efficiency.verdict import StopCriteria, Verdict, VerdictKind, decide

__all__ = [
    "AUC_EPSILON",
    "DEFAULT_LEVEL",
    "DEFAULT_MAX_BUDGET",
    "DEFAULT_REGISTRY",
    "FALLBACK_CALIBRATION",
    "GENERATION_TASKS",
    "GRID",
    "PUBLISHED_CALIBRATIONS",
    "BudgetEstimate",
    "Calibration",
    "CalibrationFit",
    "CalibrationPair",
    "CalibrationRegistry",
    "CurveAuc",
    "HeldOut",
    "Interval",
    "PowerCurve",
    "StopCriteria",
    "Verdict",
    "VerdictKind",
    "budget_from_auc",
    "calibration_for",
    "calibrations_from_data",
    "calibrations_to_data",
    "clamp_auc",
    "curve_auc",
    "decide",
    "estimate_budget",
    "examples_needed",
    "fit_calibration",
    "get_calibration",
    "mean_baseline_mae",
    "n_of_x",
    "pairs_from_csv",
    "pairs_from_data",
    "pairs_from_rows",
    "power_exponent",
    "predicted_gain",
    "spearman",
    "x_of_n",
]
