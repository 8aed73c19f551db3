"""Calibration files and calibration pairs files (method §6).

Reading and writing only: the parsing and validation are the pure functions of
:mod:`dataeff.efficiency.calibration` (:func:`calibrations_from_data`,
:func:`calibrations_to_data`) and :mod:`dataeff.efficiency.calibration_fit`
(:func:`pairs_from_csv`, :func:`pairs_from_data`). Every error names the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from dataeff.datafiles.jsonfiles import parse_json, read_json, read_text, write_json
from dataeff.efficiency.calibration import (
    DEFAULT_REGISTRY,
    Calibration,
    CalibrationRegistry,
    calibrations_from_data,
    calibrations_to_data,
)
from dataeff.efficiency.calibration_fit import CalibrationPair, pairs_from_csv, pairs_from_data


def load_calibrations(path: str | os.PathLike[str]) -> tuple[Calibration, ...]:
    """The calibrations of the calibration file at ``path``, with source ``"file:<path>"``.

    NotFoundError when missing, InvalidInputError when unreadable or not JSON, ConfigError
    naming the entry and key when malformed.
    """
    return calibrations_from_data(
        read_json(path, "calibration"), source=f"file:{path}", where=f"calibration file {path}"
    )


def load_registry(path: str | os.PathLike[str] | None = None) -> CalibrationRegistry:
    """The published calibrations plus those of the file at ``path`` (file entries win).

    ``path`` None gives :data:`~dataeff.efficiency.calibration.DEFAULT_REGISTRY`.
    """
    if path is None:
        return DEFAULT_REGISTRY
    return DEFAULT_REGISTRY.merged(load_calibrations(path))


def save_calibration(path: str | os.PathLike[str], calibration: Calibration) -> None:
    """Add ``calibration`` to the file at ``path`` (created if missing), replacing its name.

    The file is rewritten atomically; an existing file that does not load is an error and is
    left as it is.
    """
    existing = load_calibrations(path) if Path(path).exists() else ()
    write_json(path, calibrations_to_data((*existing, calibration)), "calibration")


def load_pairs(path: str | os.PathLike[str]) -> list[CalibrationPair]:
    """(task, coslow, auc) pairs from a CSV or JSON file; errors name the file and row.

    JSON when the name ends in ``.json`` or the text starts with ``[`` or ``{``, else CSV.
    """
    text = read_text(path, "pairs")
    where = f"pairs file {path}"
    if str(path).lower().endswith(".json") or text.lstrip()[:1] in ("[", "{"):
        return pairs_from_data(parse_json(text, path, "pairs"), where)
    return pairs_from_csv(text, where)
