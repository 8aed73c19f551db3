"""Per-project parameters: the ML backend's "extra params" JSON that Label Studio sends to
``/setup`` (Project → Settings → Model → Edit → Extra params), e.g.
``{"target": 0.8, "max_budget": 2000, "control": "sentiment"}``. Absent keys take the
defaults; unknown keys and bad values raise :class:`~dataeff.errors.ConfigError` (HTTP 422)
naming the key and the value.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from dataeff.errors import ConfigError

CRITERIA = ("target", "max_budget", "min_gain", "gain_step", "min_examples")


@dataclass(frozen=True)
class ProjectParams:
    """Stop criteria (method §7.1) and how to read the project (LS §3).

    ``target`` τ in (0, 1]: fraction of the zero-shot → ceiling gap; ``max_budget``: the
    curve's N (method §7, default 5000); ``min_gain``: minimal useful gain in normalized
    performance per ``gain_step`` more examples; ``min_examples``: labeled low-confidence
    examples before a verdict (method §4: 32); ``low_confidence_fraction``: the bottom share
    of scored tasks forming the low-confidence set (method §4: 0.10); ``control``: the target
    control's name; ``instruction``: the task instruction given to the model; ``model``: the
    model to score with (``None``: the service default).
    """

    target: float = 0.9
    max_budget: int = 5000
    min_gain: float = 0.01
    gain_step: int = 100
    min_examples: int = 32
    low_confidence_fraction: float = 0.10
    control: str | None = None
    instruction: str | None = None
    model: str | None = None

    @classmethod
    def parse(cls, raw: object) -> ProjectParams:
        """From a dict or a JSON string (``None``/empty: the defaults)."""
        if raw is None or raw == "":
            return cls()
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError as error:
                raise ConfigError(f"extra_params is not valid JSON: {error}") from None
            if raw is None:
                return cls()
        if not isinstance(raw, dict):
            raise ConfigError(f"extra_params must be a JSON object, got {type(raw).__name__}")
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - names)
        if unknown:
            raise ConfigError(f"extra_params: unknown key(s) {unknown}; known: {sorted(names)}")
        values = {k: _check(k, v) for k, v in raw.items() if v is not None}
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def criteria(self) -> dict[str, Any]:
        """The stop criteria among them (the fields of ``efficiency.StopCriteria``)."""
        return {key: getattr(self, key) for key in CRITERIA}


def _number(key: str, value: object, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"extra_params.{key} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"extra_params.{key} must be finite, got {value!r}")
    if integer and not float(value).is_integer():
        raise ConfigError(f"extra_params.{key} must be a whole number, got {value!r}")
    return float(value)


def _check(key: str, value: object) -> Any:
    if key in {"control", "instruction", "model"}:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"extra_params.{key} must be a non-empty string, got {value!r}")
        return value.strip()
    if key in {"max_budget", "gain_step", "min_examples"}:
        whole = int(_number(key, value, integer=True))
        low = {"max_budget": 2, "gain_step": 1, "min_examples": 2}[key]
        if whole < low:
            raise ConfigError(f"extra_params.{key} must be >= {low}, got {value!r}")
        return whole
    number = _number(key, value)
    ok = {"target": 0.0 < number <= 1.0, "min_gain": 0.0 <= number <= 1.0,
          "low_confidence_fraction": 0.0 < number <= 1.0}[key]
    if not ok:
        bounds = {"target": "(0, 1]", "min_gain": "[0, 1]", "low_confidence_fraction": "(0, 1]"}
        raise ConfigError(f"extra_params.{key} must lie in {bounds[key]}, got {value!r}")
    return number
