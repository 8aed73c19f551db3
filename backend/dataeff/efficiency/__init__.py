"""dataeff.efficiency: the data-efficiency math, standard library and numpy only.

- :mod:`~dataeff.efficiency.metric`: the reference AUC of a fine-tuning curve (method §2).
- :mod:`~dataeff.efficiency.curve`: the power curve x^p and examples needed (method §7).
- :mod:`~dataeff.efficiency.calibration`: CoS-Low -> AUC lines, published and from files (§6).
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
    get_calibration,
    load_calibrations,
    load_registry,
    save_calibration,
)
from dataeff.efficiency.calibration_fit import (
    CalibrationFit,
    CalibrationPair,
    HeldOut,
    fit_calibration,
    load_pairs,
    mean_baseline_mae,
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
from dataeff.efficiency.curve_files import FileAuc, file_auc, load_curve, load_human_eval, task_name
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
    "FileAuc",
    "HeldOut",
    "Interval",
    "PowerCurve",
    "StopCriteria",
    "Verdict",
    "VerdictKind",
    "budget_from_auc",
    "calibration_for",
    "clamp_auc",
    "curve_auc",
    "decide",
    "estimate_budget",
    "examples_needed",
    "file_auc",
    "fit_calibration",
    "get_calibration",
    "load_calibrations",
    "load_curve",
    "load_human_eval",
    "load_pairs",
    "load_registry",
    "mean_baseline_mae",
    "n_of_x",
    "power_exponent",
    "predicted_gain",
    "save_calibration",
    "spearman",
    "task_name",
    "x_of_n",
]
