"""Fitting a calibration from (task, CoS-Low, AUC) pairs with leave-one-task-out OLS (method §6).

As in the reference (``run_leave_one_out``): for each task, fit AUC ~ CoS-Low by ordinary
least squares with an intercept on the other tasks, predict the held-out one and record the
error. Reported beside it: the mean-of-other-tasks baseline (method §8), which predicts each
task's AUC as the mean AUC of the others. Pairs come from CSV text (columns task, coslow, auc)
or parsed JSON (a list of such objects, ``{"pairs": [...]}``, or ``{task: {"coslow", "auc"}}``);
:func:`dataeff.datafiles.calibrations.load_pairs` reads them from a file.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dataeff.efficiency.calibration import Calibration
from dataeff.efficiency.checks import check_coslow, finite
from dataeff.errors import InvalidInputError

MIN_TASKS = 3
"""Leave-one-out needs two tasks per fold; standard errors need n - 2 > 0."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CalibrationPair:
    """One task's CoS-Low (in [-1, 1]) and its true AUC (in [0, 1])."""

    task: str
    coslow: float
    auc: float

    def __post_init__(self) -> None:
        if not isinstance(self.task, str) or not self.task.strip():
            raise InvalidInputError(f"pair task must be a non-empty string, got {self.task!r}")
        check_coslow(self.coslow, f"coslow of task {self.task!r}")
        auc = finite(self.auc, f"auc of task {self.task!r}")
        if not 0.0 <= auc <= 1.0:
            raise InvalidInputError(f"auc of task {self.task!r} must lie in [0, 1], got {auc}")


@dataclass(frozen=True)
class HeldOut:
    """The leave-one-out prediction of one task: ``error`` = prediction - auc."""

    task: str
    coslow: float
    auc: float
    prediction: float
    error: float
    baseline_prediction: float


@dataclass(frozen=True)
class CalibrationFit:
    """OLS of AUC on CoS-Low over all tasks, with leave-one-task-out errors (AUC units).

    ``slope_se``/``intercept_se``: classical OLS standard errors (residual variance RSS/(n-2));
    ``loo_mae``/``loo_rmse``: errors of the held-out predictions; ``spearman``: rank
    correlation of CoS-Low and AUC (None when either is constant); ``baseline_mae``: LOO MAE
    of predicting the mean AUC of the other tasks.
    """

    slope: float
    intercept: float
    slope_se: float
    intercept_se: float
    loo_mae: float
    loo_rmse: float
    spearman: float | None
    baseline_mae: float
    held_out: tuple[HeldOut, ...]

    @property
    def n_tasks(self) -> int:
        return len(self.held_out)

    def to_calibration(self, name: str, source: str = "fit") -> Calibration:
        """A :class:`Calibration` whose ``residual_sd`` is the LOO RMSE (sd of held-out errors)."""
        return Calibration(
            name=name, slope=self.slope, intercept=self.intercept, slope_se=self.slope_se,
            intercept_se=self.intercept_se, residual_sd=self.loo_rmse, source=source,
            note=f"leave-one-task-out OLS on {self.n_tasks} tasks; residual_sd = LOO RMSE, "
            f"LOO MAE {self.loo_mae:.4f} vs mean-baseline {self.baseline_mae:.4f}",
            n_tasks=self.n_tasks, loo_mae=self.loo_mae, spearman=self.spearman,
        )


def fit_calibration(pairs: Sequence[CalibrationPair]) -> CalibrationFit:
    """Fit AUC = slope · CoS-Low + intercept with leave-one-task-out evaluation (method §6).

    Needs at least 3 pairs with distinct task names, and at least two distinct CoS-Low
    values left in every fold; InvalidInputError otherwise.
    """
    if len(pairs) < MIN_TASKS:
        raise InvalidInputError(f"calibration needs at least {MIN_TASKS} tasks, got {len(pairs)}")
    seen: set[str] = set()
    for pair in pairs:
        if pair.task in seen:
            raise InvalidInputError(f"task {pair.task!r} appears twice in the calibration pairs")
        seen.add(pair.task)
    x = np.array([p.coslow for p in pairs], dtype=np.float64)
    y = np.array([p.auc for p in pairs], dtype=np.float64)
    n = len(pairs)
    held_out = []
    for i, pair in enumerate(pairs):
        mask = np.arange(n) != i
        if np.ptp(x[mask]) == 0:
            raise InvalidInputError(
                f"without task {pair.task!r} every CoS-Low value is equal: "
                "the line is undetermined"
            )
        slope, intercept = _ols(x[mask], y[mask])
        prediction = slope * pair.coslow + intercept
        held_out.append(HeldOut(
            task=pair.task, coslow=pair.coslow, auc=pair.auc, prediction=prediction,
            error=prediction - pair.auc, baseline_prediction=float(y[mask].mean()),
        ))
    slope, intercept = _ols(x, y)
    residuals = y - (slope * x + intercept)
    variance = float(residuals @ residuals) / (n - 2)
    sxx = float(((x - x.mean()) ** 2).sum())
    errors = np.array([h.error for h in held_out])
    baseline = np.array([h.baseline_prediction - h.auc for h in held_out])
    return CalibrationFit(
        slope=slope,
        intercept=intercept,
        slope_se=math.sqrt(variance / sxx),
        intercept_se=math.sqrt(variance * (1.0 / n + float(x.mean()) ** 2 / sxx)),
        loo_mae=float(np.abs(errors).mean()),
        loo_rmse=float(np.sqrt((errors**2).mean())),
        spearman=spearman(x, y),
        baseline_mae=float(np.abs(baseline).mean()),
        held_out=tuple(held_out),
    )


def mean_baseline_mae(aucs: Sequence[float]) -> float:
    """LOO MAE of predicting each AUC by the mean of the others (method §8 trivial baseline)."""
    y = np.array(aucs, dtype=np.float64)
    if y.size < 2:
        raise InvalidInputError(f"the mean baseline needs at least 2 tasks, got {y.size}")
    others = (y.sum() - y) / (y.size - 1)
    return float(np.abs(others - y).mean())


def spearman(a: Sequence[float] | FloatArray, b: Sequence[float] | FloatArray) -> float | None:
    """Spearman rank correlation (ties get average ranks); None when either side is constant."""
    ra, rb = _ranks(np.asarray(a, dtype=np.float64)), _ranks(np.asarray(b, dtype=np.float64))
    if ra.size != rb.size:
        raise InvalidInputError(f"spearman needs equal lengths, got {ra.size} and {rb.size}")
    da, db = ra - ra.mean(), rb - rb.mean()
    denominator = math.sqrt(float(da @ da) * float(db @ db))
    return None if denominator == 0 else float(da @ db) / denominator


def pairs_from_csv(text: str, where: str) -> list[CalibrationPair]:
    """Pairs from CSV text with columns task, coslow, auc (any case, any order, more allowed).

    ``where`` (e.g. ``"pairs file <path>"``) starts every error, which names the line.
    """
    reader = csv.DictReader(_lines(text))
    columns = {c.strip().lower(): c for c in reader.fieldnames or []}
    missing = [c for c in ("task", "coslow", "auc") if c not in columns]
    if missing:
        raise InvalidInputError(f"{where} lacks the column {missing[0]!r}")
    return [
        _pair(row[columns["task"]], row[columns["coslow"]], row[columns["auc"]],
              f"{where} line {reader.line_num}")
        for row in reader
    ]


def pairs_from_data(data: object, where: str) -> list[CalibrationPair]:
    """Pairs from parsed JSON data (see the module docstring for its three shapes).

    ``where`` (e.g. ``"pairs file <path>"``) starts every error, which names the item.
    """
    if isinstance(data, dict) and isinstance(data.get("pairs"), list):
        data = data["pairs"]
    if isinstance(data, dict):
        data = [
            {"task": task, **entry} if isinstance(entry, dict) else entry
            for task, entry in data.items()
        ]
    if not isinstance(data, list):
        raise InvalidInputError(f"{where} must hold a list of {{task, coslow, auc}}")
    return pairs_from_rows(data, where)


def pairs_from_rows(rows: Iterable[object], where: str) -> list[CalibrationPair]:
    """Pairs from rows, each a mapping holding at least ``task``, ``coslow`` and ``auc``.

    Numbers may be numeric strings. A row that is not such a mapping is an error; ``where``
    starts every error, which names the row's index (``item <i>``).
    """
    pairs = []
    for index, row in enumerate(rows):
        item = f"{where} item {index}"
        if not isinstance(row, Mapping) or not {"task", "coslow", "auc"} <= set(row):
            raise InvalidInputError(f"{item} must be an object with task, coslow and auc")
        pairs.append(_pair(row["task"], row["coslow"], row["auc"], item))
    return pairs


def _pair(task: object, coslow: object, auc: object, where: str) -> CalibrationPair:
    try:
        return CalibrationPair(
            task=str(task).strip() if task is not None else "",
            coslow=_to_float(coslow, "coslow"),
            auc=_to_float(auc, "auc"),
        )
    except InvalidInputError as error:
        raise InvalidInputError(f"{where}: {error}") from None


def _to_float(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidInputError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise InvalidInputError(f"{name} must be a number, got {value!r}") from None
    return finite(number, name)


def _lines(text: str) -> list[str]:
    """``text`` cut after each newline, as a text file yields its lines (csv needs the ends)."""
    *complete, last = text.split("\n")
    return [line + "\n" for line in complete] + ([last] if last else [])


def _ols(x: FloatArray, y: FloatArray) -> tuple[float, float]:
    dx = x - x.mean()
    slope = float(dx @ (y - y.mean())) / float(dx @ dx)
    return slope, float(y.mean()) - slope * float(x.mean())


def _ranks(values: FloatArray) -> FloatArray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.arange(values.size, dtype=np.float64)
    for value in np.unique(values):
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return ranks
