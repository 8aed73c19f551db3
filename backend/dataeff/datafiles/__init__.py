"""dataeff.datafiles: the files of the data-efficiency math, read and written (method §2, §6).

The layer above :mod:`dataeff.efficiency`, used by the CLI and the service: it reads files,
hands the parsed data to efficiency's pure functions and writes their results; efficiency
never imports it. Every error names the file.

- :mod:`~dataeff.datafiles.jsonfiles`: UTF-8 text and strict JSON in, JSON written atomically.
- :mod:`~dataeff.datafiles.curves`: reference curve files and the human-level table (§2.1).
- :mod:`~dataeff.datafiles.calibrations`: calibration files and pairs files (§6).
"""

from dataeff.datafiles.calibrations import (
    load_calibrations,
    load_pairs,
    load_registry,
    save_calibration,
)
from dataeff.datafiles.curves import FileAuc, file_auc, load_curve, load_human_eval, task_name
from dataeff.datafiles.jsonfiles import parse_json, read_json, read_text, write_json, write_jsonl

__all__ = [
    "FileAuc",
    "file_auc",
    "load_calibrations",
    "load_curve",
    "load_human_eval",
    "load_pairs",
    "load_registry",
    "parse_json",
    "read_json",
    "read_text",
    "save_calibration",
    "task_name",
    "write_json",
    "write_jsonl",
]
