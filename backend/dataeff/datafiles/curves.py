"""Curve files in the reference format and the human-level table (method §2.1, §11).

A curve file is ``{"<n>": {"accuracy": ...}, ...}``; the reference names them
``<model>_<task>_full_result_v2.json``. The human-level table is
``{task: {"score": float or null, "method": ...}}`` (``human_eval.json``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dataeff.datafiles.jsonfiles import read_json
from dataeff.efficiency.checks import finite
from dataeff.efficiency.metric import (
    DEFAULT_MAX_BUDGET,
    GENERATION_TASKS,
    CurveAuc,
    curve_auc,
)
from dataeff.errors import InvalidInputError

_REFERENCE_NAME = re.compile(r"^[^_]+_(?P<task>.+)_full_result_v2\.json$")


@dataclass(frozen=True)
class FileAuc:
    """The AUC of one curve file: ``task`` (from the file name) and its :class:`CurveAuc`."""

    path: str
    task: str
    generation: bool
    result: CurveAuc


def task_name(path: str | os.PathLike[str]) -> str:
    """The task of a curve file: ``llama_circa_full_result_v2.json`` -> ``circa``.

    Names outside the reference pattern give their stem (``my_task.json`` -> ``my_task``).
    """
    name = Path(path).name
    match = _REFERENCE_NAME.match(name)
    return match.group("task") if match else Path(name).stem


def load_curve(path: str | os.PathLike[str]) -> Mapping[str | int, Mapping[str, float]]:
    """The curve object of a JSON curve file (structure checked by :func:`curve_auc`)."""
    data = read_json(path, "curve")
    if not isinstance(data, dict):
        raise InvalidInputError(
            f"curve file {path} must hold an object {{\"<n>\": {{\"accuracy\": ...}}}}, "
            f"got {type(data).__name__}"
        )
    return data


def load_human_eval(path: str | os.PathLike[str]) -> dict[str, object]:
    """Task -> raw human-level score from a ``human_eval.json`` table (scores not yet checked).

    Accepts ``{task: {"score": ...}}`` and the shorthand ``{task: score}``.
    """
    data = read_json(path, "human-eval")
    if not isinstance(data, dict):
        raise InvalidInputError(
            f"human-eval file {path} must hold an object {{task: {{\"score\": ...}}}}"
        )
    table: dict[str, object] = {}
    for task, entry in data.items():
        if isinstance(entry, dict):
            table[task] = entry.get("score")
        elif entry is None or isinstance(entry, int | float | str):
            table[task] = entry
        else:
            raise InvalidInputError(
                f"human-eval file {path}: entry for {task!r} must be an object with a score"
            )
    return table


def file_auc(
    path: str | os.PathLike[str],
    *,
    ceiling: float | None = None,
    human_eval: Mapping[str, object] | None = None,
    generation: bool | None = None,
    max_budget: int = DEFAULT_MAX_BUDGET,
) -> FileAuc:
    """The AUC of the curve in ``path`` (method §2.1).

    The human-level score is ``ceiling`` when given, else the task's entry in ``human_eval``
    (absent task = no score, as in the reference). ``generation`` defaults to whether the task
    is one of :data:`GENERATION_TASKS`. Errors name the file.
    """
    task = task_name(path)
    if ceiling is not None:
        human: object = finite(ceiling, "ceiling")
    else:
        human = (human_eval or {}).get(task)
    is_generation = task in GENERATION_TASKS if generation is None else generation
    curve = load_curve(path)
    try:
        result = curve_auc(
            curve, human_score=human, generation=is_generation, max_budget=max_budget
        )
    except InvalidInputError as error:
        raise InvalidInputError(f"curve file {path}: {error}") from None
    return FileAuc(path=str(path), task=task, generation=is_generation, result=result)
