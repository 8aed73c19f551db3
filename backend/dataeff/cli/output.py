"""How commands print results: JSON (default, one object per line) or a table for people."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

FORMATS = ("json", "table")


def add_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="json",
        help="json (default, one object per line) or table (for people)",
    )


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: refuse to print them rather than emit invalid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"refusing to print a non-finite number: {value!r}")
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def emit(
    records: Iterable[Mapping[str, Any]], fmt: str = "json", out: TextIO | None = None
) -> None:
    """Print records as JSON lines, or as one aligned table with a header row."""
    out = out or sys.stdout
    rows = [dict(r) for r in records]
    if fmt == "json":
        for row in rows:
            out.write(json.dumps(_finite(row), allow_nan=False) + "\n")
        return
    if not rows:
        return
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n")
    for r in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() + "\n")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.0f}"
    if isinstance(value, list | tuple):
        if len(value) == 2 and all(isinstance(v, int | float) for v in value):
            return f"[{_cell(value[0])}, {_cell(value[1])}]"
        return f"<{len(value)} items>"
    if isinstance(value, Mapping):
        return json.dumps(value, separators=(",", ":"))[:60]
    return str(value)
