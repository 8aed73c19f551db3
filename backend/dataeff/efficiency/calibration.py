"""Per-model calibrations AUC' = slope · CoS-Low + intercept and their registry (method §6, §8).

Three calibrations are published (method §6); "±" is read as one standard error, since the
source does not define it. ``residual_sd`` is the leave-one-task-out prediction error of
the line in AUC units, as a normal standard deviation: a mean absolute error (MAE) is
converted with sd = MAE · sqrt(pi / 2), exact for normal residuals. Other models either load
a user calibration file (read and written by :mod:`dataeff.datafiles.calibrations`, which
hands the parsed data to :func:`calibrations_from_data`) or get :data:`FALLBACK_CALIBRATION`
with its wide range.

Calibration data (the JSON of a calibration file)::

    {"calibrations": {"<name>": {"slope": 0.6, "intercept": 0.3, "slope_se": 0.02,
                                 "intercept_se": 0.01, "residual_sd": 0.09,
                                 "aliases": ["my-model"], "note": "...", "n_tasks": 12,
                                 "loo_mae": 0.07, "spearman": 0.7}}}
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

from dataeff.efficiency.checks import check_coslow, finite
from dataeff.efficiency.curve import clamp_auc
from dataeff.errors import ConfigError, InvalidInputError, NotFoundError

MAE_TO_SD = math.sqrt(math.pi / 2)
"""sd / MAE for normal errors: E|e| = sd · sqrt(2 / pi)."""

_REQUIRED = ("slope", "intercept", "slope_se", "intercept_se", "residual_sd")
_OPTIONAL = ("aliases", "note", "n_tasks", "loo_mae", "spearman")


@dataclass(frozen=True)
class Calibration:
    """AUC' = ``slope`` · CoS-Low + ``intercept`` for one model family (method §6).

    ``slope_se``/``intercept_se``: standard errors of the coefficients (>= 0);
    ``residual_sd``: leave-one-task-out prediction error, AUC units (>= 0); ``source``:
    "published", "fallback", "file:<path>" or "fit"; ``aliases``: other names it answers to
    (case-insensitive); ``n_tasks``, ``loo_mae``, ``spearman``: fit statistics when known.
    """

    name: str
    slope: float
    intercept: float
    slope_se: float
    intercept_se: float
    residual_sd: float
    source: str
    aliases: tuple[str, ...] = ()
    note: str = ""
    n_tasks: int | None = None
    loo_mae: float | None = None
    spearman: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidInputError(f"calibration name must be a non-empty string: {self.name!r}")
        for name in ("slope", "intercept"):
            finite(getattr(self, name), f"calibration {self.name!r} {name}")
        for name in ("slope_se", "intercept_se", "residual_sd"):
            if finite(getattr(self, name), f"calibration {self.name!r} {name}") < 0:
                raise InvalidInputError(
                    f"calibration {self.name!r} {name} must be >= 0, got {getattr(self, name)}"
                )

    def predict_raw(self, coslow: float) -> float:
        """slope · CoS-Low + intercept, unclamped (may leave (0, 1))."""
        return self.slope * check_coslow(coslow) + self.intercept

    def predict(self, coslow: float) -> float:
        """The predicted AUC for CoS-Low in [-1, 1], clamped into (0, 1) (method §6)."""
        return clamp_auc(self.predict_raw(coslow))

    def names(self) -> tuple[str, ...]:
        """The lower-case names this calibration answers to."""
        return tuple(dict.fromkeys(k.strip().lower() for k in (self.name, *self.aliases)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (``name`` included)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["aliases"] = list(self.aliases)
        return data


def _published(
    name: str, *, slope: tuple[float, float], intercept: tuple[float, float], residual_sd: float,
    aliases: tuple[str, ...], note: str, loo_mae: float | None = None,
    spearman: float | None = None,
) -> Calibration:
    return Calibration(
        name=name, slope=slope[0], slope_se=slope[1], intercept=intercept[0],
        intercept_se=intercept[1], residual_sd=residual_sd, source="published",
        aliases=aliases, note=note, n_tasks=30, loo_mae=loo_mae, spearman=spearman,
    )


_BASELINE_NOTE = (
    "no published leave-one-out error: residual_sd is the mean-of-other-tasks baseline's LOO "
    "MAE {mae} (method §8, Data) times sqrt(pi/2), a conservative stand-in"
)

LLAMA = _published(
    "meta-llama/Llama-3.1-8B-Instruct", slope=(0.545, 0.005), intercept=(0.310, 0.002),
    residual_sd=0.086 * MAE_TO_SD, aliases=("llama-3.1-8b-instruct", "llama"),
    note="residual_sd is the abstract's 8.6% read as the leave-one-out MAE of AUC (a Derived "
    "reading, method §8) times sqrt(pi/2); ± read as standard errors",
    loo_mae=0.086, spearman=0.675,
)
MISTRAL = _published(
    "mistralai/Mistral-7B-Instruct-v0.3", slope=(0.797, 0.012), intercept=(0.357, 0.002),
    residual_sd=0.124 * MAE_TO_SD, aliases=("mistral-7b-instruct-v0.3", "mistral"),
    note=_BASELINE_NOTE.format(mae=0.124),
)
QWEN = _published(
    "Qwen/Qwen2.5-14B-Instruct", slope=(0.526, 0.025), intercept=(0.305, 0.003),
    residual_sd=0.126 * MAE_TO_SD, aliases=("qwen2.5-14b-instruct", "qwen"),
    note=_BASELINE_NOTE.format(mae=0.126),
)
PUBLISHED_CALIBRATIONS: tuple[Calibration, ...] = (LLAMA, MISTRAL, QWEN)

FALLBACK_CALIBRATION = replace(
    LLAMA, name="fallback", source="fallback", aliases=(), loo_mae=None, spearman=None,
    n_tasks=None, residual_sd=0.128 * MAE_TO_SD,
    note="for uncalibrated models: the Llama-3.1-8B line with residual_sd widened to the "
    "mean-of-other-tasks baseline's LOO MAE 0.128 (≈0.13 AUC, method §8) times sqrt(pi/2); "
    "coefficients do not transfer across models (method §6), so treat the range as rough",
)


@dataclass(frozen=True)
class CalibrationRegistry:
    """Calibrations by case-insensitive name or alias; a later one replaces a same-named one."""

    calibrations: tuple[Calibration, ...] = PUBLISHED_CALIBRATIONS

    def __post_init__(self) -> None:
        kept: dict[str, Calibration] = {}
        for calibration in self.calibrations:
            kept.pop(calibration.name.strip().lower(), None)
            kept[calibration.name.strip().lower()] = calibration
        object.__setattr__(self, "calibrations", tuple(kept.values()))

    def merged(self, more: Iterable[Calibration]) -> CalibrationRegistry:
        """A registry with ``more`` added; they win on shared names and aliases."""
        return CalibrationRegistry((*self.calibrations, *more))

    def find(self, model: str) -> Calibration | None:
        """The calibration answering to ``model`` (case-insensitive), or None."""
        key = model.strip().lower()
        for calibration in reversed(self.calibrations):
            if key in calibration.names():
                return calibration
        return None

    def get(self, model: str) -> Calibration:
        """Like :meth:`find`, but NotFoundError naming the known models when unknown."""
        found = self.find(model)
        if found is None:
            known = ", ".join(c.name for c in self.calibrations) or "none"
            raise NotFoundError(
                f"no calibration for model {model!r}; known: {known} "
                "(give coefficients or a calibration file instead)"
            )
        return found


DEFAULT_REGISTRY = CalibrationRegistry()


def get_calibration(model: str, registry: CalibrationRegistry | None = None) -> Calibration:
    """The calibration of ``model`` (HF id or alias); NotFoundError when unknown."""
    return (registry or DEFAULT_REGISTRY).get(model)


def calibration_for(model: str, registry: CalibrationRegistry | None = None) -> Calibration | None:
    """The calibration of ``model``, or None when it is uncalibrated (use the fallback)."""
    return (registry or DEFAULT_REGISTRY).find(model)


def calibrations_from_data(data: object, *, source: str, where: str) -> tuple[Calibration, ...]:
    """The calibrations of parsed calibration data ``{"calibrations": {name: {...}}}``.

    ``source`` becomes each calibration's ``source`` (e.g. ``"file:<path>"``); ``where``
    starts every error message (e.g. ``"calibration file <path>"``). ConfigError naming the
    entry and key when the data is malformed.
    """
    if not isinstance(data, dict) or not isinstance(data.get("calibrations"), dict):
        raise ConfigError(f"{where} must hold {{\"calibrations\": {{name: {{...}}}}}}")
    return tuple(
        _from_entry(name, entry, source, where) for name, entry in data["calibrations"].items()
    )


def calibrations_to_data(calibrations: Iterable[Calibration]) -> dict[str, Any]:
    """JSON-ready ``{"calibrations": {name: {...}}}``; a later same-named calibration wins.

    ``source`` is not written (it is where a calibration was read from); empty optional
    fields are left out. :func:`calibrations_from_data` reads it back.
    """
    return {"calibrations": {c.name: _to_entry(c) for c in calibrations}}


def _to_entry(calibration: Calibration) -> dict[str, Any]:
    data = calibration.to_dict()
    return {k: data[k] for k in (*_REQUIRED, *_OPTIONAL) if data[k] not in (None, "", [])}


def _from_entry(name: str, entry: object, source: str, where: str) -> Calibration:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: calibration {name!r} must be an object")
    unknown = sorted(set(entry) - {*_REQUIRED, *_OPTIONAL})
    if unknown:
        raise ConfigError(f"{where}: calibration {name!r} has unknown key {unknown[0]!r}")
    missing = [k for k in _REQUIRED if k not in entry]
    if missing:
        raise ConfigError(f"{where}: calibration {name!r} lacks {missing[0]!r}")
    aliases = entry.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
        raise ConfigError(f"{where}: calibration {name!r} aliases must be a list of names")
    n_tasks = entry.get("n_tasks")
    if n_tasks is not None and (isinstance(n_tasks, bool) or not isinstance(n_tasks, int)):
        raise ConfigError(f"{where}: calibration {name!r} n_tasks must be an integer")
    try:
        return Calibration(
            name=name,
            slope=finite(entry["slope"], "slope"),
            intercept=finite(entry["intercept"], "intercept"),
            slope_se=finite(entry["slope_se"], "slope_se"),
            intercept_se=finite(entry["intercept_se"], "intercept_se"),
            residual_sd=finite(entry["residual_sd"], "residual_sd"),
            source=source,
            aliases=tuple(aliases),
            note=str(entry.get("note", "")),
            n_tasks=n_tasks,
            loo_mae=_optional_number(entry.get("loo_mae"), "loo_mae"),
            spearman=_optional_number(entry.get("spearman"), "spearman"),
        )
    except InvalidInputError as error:
        raise ConfigError(f"{where}: {error}") from None


def _optional_number(value: object, key: str) -> float | None:
    return None if value is None else finite(value, key)
