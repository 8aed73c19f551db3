"""Reading text and JSON files and writing JSON atomically, with errors that name the file."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from dataeff.errors import InvalidInputError, NotFoundError


def read_text(path: str | os.PathLike[str], what: str) -> str:
    """The UTF-8 text of ``path``; NotFoundError when missing, InvalidInputError otherwise."""
    file = Path(path)
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"{what} file not found: {file}") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{what} path is a directory, not a file: {file}") from None
    except UnicodeDecodeError as error:
        raise InvalidInputError(f"{what} file {file} is not UTF-8 text: {error.reason}") from None
    except OSError as error:
        raise InvalidInputError(f"cannot read {what} file {file}: {error.strerror}") from None


def read_json(path: str | os.PathLike[str], what: str) -> object:
    """The parsed JSON of ``path``; bad JSON (NaN included) raises InvalidInputError."""
    return parse_json(read_text(path, what), path, what)


def parse_json(text: str, path: str | os.PathLike[str], what: str) -> object:
    """``text`` (read from ``path``) parsed as strict JSON: NaN and Infinity are rejected."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise InvalidInputError(
            f"{what} file {path} is not valid JSON: {error.msg} "
            f"(line {error.lineno}, column {error.colno})"
        ) from None
    except ValueError as error:
        raise InvalidInputError(f"{what} file {path} is not valid JSON: {error}") from None


def write_json(path: str | os.PathLike[str], data: object, what: str) -> None:
    """Write ``data`` as indented JSON atomically: a failed write leaves the old file intact."""
    _write_text(path, json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n", what)


def write_jsonl(path: str | os.PathLike[str], rows: Iterable[object], what: str) -> None:
    """Write ``rows`` as JSON lines atomically; NaN or infinity anywhere is an error."""
    lines = []
    for index, row in enumerate(rows):
        try:
            lines.append(json.dumps(row, allow_nan=False) + "\n")
        except ValueError as error:
            key = row.get("key") if isinstance(row, Mapping) else None
            name = f"row {index}" + ("" if key is None else f" (key {key!r})")
            raise InvalidInputError(f"cannot write {what} file {path}: {name}: {error}") from None
    _write_text(path, "".join(lines), what)


def _write_text(path: str | os.PathLike[str], text: str, what: str) -> None:
    file = Path(path)
    temporary: Path | None = None
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=file.parent, prefix=f".{file.name}.", delete=False
        ) as handle:
            temporary = Path(handle.name)
            handle.write(text)
        temporary.replace(file)
    except OSError as error:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise InvalidInputError(f"cannot write {what} file {file}: {error.strerror}") from None


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")
