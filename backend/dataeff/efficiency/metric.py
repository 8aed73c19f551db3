"""The data-efficiency AUC of a fine-tuning curve, exactly as the reference code computes it.

Method §2.1 step by step (reproduces all 100 released values, method §11) and the quirks of
§2.2: small datasets carry their last value forward to the end of the grid, holes mid-curve
take the previous value, a curve without a zero-shot point starts at n = 50. Degenerate
curves the reference would divide by zero on are rejected with :class:`InvalidInputError`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from dataeff.efficiency.checks import check_max_budget
from dataeff.errors import InvalidInputError

logger = logging.getLogger(__name__)

GRID: tuple[int, ...] = (50, 100, 200, 500, 1000, 2500, 5000)
"""The budgets of the reference curves (method §2); missing ones are filled (step 5)."""

DEFAULT_MAX_BUDGET = 5000
"""The cutoff N of the released AUCs and the default range of the power curve (method §7)."""

MIN_KEPT_BUDGET = 50
"""Few-shot runs below this budget (n = 4 … 32) are dropped; n = 0 is kept (step 2)."""

GENERATION_TASKS: frozenset[str] = frozenset(
    {"sciq", "typescript_chunks", "polish_sequence_labeling", "coqa", "qa_wikidata", "squad_v2",
     "disfl_qa"}
)
"""Tasks the reference scores with ``f1`` instead of accuracy (method §2.1 step 1)."""

_ACCURACY_KEYS = ("accuracy", "exact_string_match_accuracy")


@dataclass(frozen=True)
class CurveAuc:
    """The AUC of one curve and what it was computed from (method §2.1).

    ``auc`` in [0, 1]; ``points``: (n, x, y) after zero-fill and running-max envelope, sorted
    by n, with x = log2(max(n, 1)) / log2(max n) in [0, 1] and y the normalized performance in
    [0, 1]; ``max_acc`` and ``min_acc``: extremes of the kept raw points (step 3);
    ``ceiling``: max(human score, max_acc), or max_acc without a numeric human score (step 4);
    ``raw_points``: the kept (n, metric) points before filling, for plots (method §9).
    """

    auc: float
    points: tuple[tuple[int, float, float], ...]
    max_acc: float
    min_acc: float
    ceiling: float
    raw_points: tuple[tuple[int, float], ...] = ()


def numeric_human_score(score: object) -> float | None:
    """A human-level score as a finite float, or None when missing or malformed (method §2.2).

    The released table stores a string for ``polish_sequence_labeling``; the reference code
    then skips the task silently. dataeff treats any non-numeric score as missing and logs it.
    """
    if score is None:
        return None
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        logger.warning("ignoring non-numeric human-level score %r: using the best observed", score)
        return None
    return float(score)


def curve_auc(
    curve: Mapping[str | int, Mapping[str, float]],
    *,
    human_score: object = None,
    generation: bool = False,
    max_budget: int = DEFAULT_MAX_BUDGET,
) -> CurveAuc:
    """The data-efficiency AUC of ``curve`` (method §2.1).

    ``curve`` maps a budget n (int, or its decimal string as in the reference JSON) to a
    metrics dict. The metric is ``accuracy``, per point falling back to
    ``exact_string_match_accuracy``; ``f1`` when ``generation`` is true. Points with n = 0 or
    50 <= n <= ``max_budget`` are kept (default 5000, must be >= 50). ``human_score`` is the
    human-level score; non-numeric values count as missing. Raises InvalidInputError for
    malformed points, fewer than two kept points, a curve lacking both n = 0 and n = 50, or a
    ceiling equal to the lowest value.
    """
    _check_max_budget(max_budget)
    raw = _kept_points(curve, generation=generation, max_budget=max_budget)
    if len(raw) < 2:
        raise InvalidInputError(
            f"curve has {len(raw)} usable point(s) with n = 0 or 50 <= n <= {max_budget}; "
            "at least 2 are needed"
        )
    if 0 not in raw and MIN_KEPT_BUDGET not in raw:
        raise InvalidInputError(
            "curve has neither a zero-shot point (n = 0) nor n = 50: the zero-filled n = 50 "
            "would become its minimum (method §2.2)"
        )
    values = list(raw.values())
    max_acc, min_acc = max(values), min(values)
    human = numeric_human_score(human_score)
    ceiling = max(human, max_acc) if human is not None else max_acc

    filled = dict(raw)
    for budget in GRID:
        if budget <= max_budget:
            filled.setdefault(budget, 0.0)
    ns = sorted(filled)
    envelope = np.maximum.accumulate(np.array([filled[n] for n in ns], dtype=np.float64))
    v_min = float(envelope.min())
    if not ceiling > v_min:
        raise InvalidInputError(
            f"curve ceiling {ceiling} does not exceed its lowest value {v_min}: "
            "nothing to normalize (method §2.2)"
        )
    y = (envelope - v_min) / (ceiling - v_min)
    log_n = np.log2(np.array([max(n, 1) for n in ns], dtype=np.float64))
    x = log_n / log_n.max()
    auc = float(np.trapezoid(y, x))
    return CurveAuc(
        auc=auc,
        points=tuple((n, float(xi), float(yi)) for n, xi, yi in zip(ns, x, y, strict=True)),
        max_acc=max_acc,
        min_acc=min_acc,
        ceiling=ceiling,
        raw_points=tuple(sorted(raw.items())),
    )


def _check_max_budget(max_budget: int) -> None:
    check_max_budget(max_budget)
    if max_budget < MIN_KEPT_BUDGET:
        raise InvalidInputError(
            f"max_budget must be at least {MIN_KEPT_BUDGET} for an AUC, got {max_budget}"
        )


def _kept_points(
    curve: Mapping[str | int, Mapping[str, float]], *, generation: bool, max_budget: int
) -> dict[int, float]:
    """Budget -> metric for the kept points (steps 1-2), validated."""
    if not isinstance(curve, Mapping):
        raise InvalidInputError(
            f"a curve must map budgets to metrics, got {type(curve).__name__}"
        )
    kept: dict[int, float] = {}
    for key, metrics in curve.items():
        n = _budget(key)
        if not (n == 0 or MIN_KEPT_BUDGET <= n <= max_budget):
            continue
        if n in kept:
            raise InvalidInputError(f"curve lists budget {n} twice")
        kept[n] = _metric(n, metrics, generation=generation)
    return kept


def _budget(key: object) -> int:
    if isinstance(key, bool):
        raise InvalidInputError(f"curve budget must be a non-negative integer, got {key!r}")
    try:
        n = int(key) if isinstance(key, int) else int(str(key).strip(), 10)
    except ValueError:
        raise InvalidInputError(
            f"curve budget must be a non-negative integer, got {key!r}"
        ) from None
    if n < 0:
        raise InvalidInputError(f"curve budget must be a non-negative integer, got {key!r}")
    return n


def _metric(n: int, metrics: object, *, generation: bool) -> float:
    if not isinstance(metrics, Mapping):
        raise InvalidInputError(f"curve point n={n} must be an object of metrics, got {metrics!r}")
    keys = ("f1",) if generation else _ACCURACY_KEYS
    for name in keys:
        value = metrics.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInputError(f"curve point n={n}: {name} must be a number, got {value!r}")
        if not math.isfinite(value) or value < 0:
            raise InvalidInputError(
                f"curve point n={n}: {name} must be finite and >= 0, got {value!r}"
            )
        return float(value)
    raise InvalidInputError(f"curve point n={n} has no {' or '.join(keys)} value")
