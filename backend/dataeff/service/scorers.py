"""The worker's models: loaded once per process, on first use (or at start), kept resident.

A *scorer factory* is any callable ``factory(model, *, device, cache_dir) -> Scorer``; the
default, ``dataeff.estimator:load_scorer``, loads the embedded SmolLM2 or a named model. The
setting ``scorer_factory`` names it as ``"module:callable"`` so a deployment (or a test, or
the benchmark) can plug another one in without code. Requests never load a model: only the
job runner calls :meth:`ScorerPool.get`.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dataeff.errors import ConfigError, UnavailableError
from dataeff.estimator.scorer import Scorer

log = logging.getLogger(__name__)

ScorerFactory = Callable[..., Scorer]


def import_factory(path: str) -> ScorerFactory:
    """Resolve ``"package.module:callable"``; errors name the setting and the path."""
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(f"setting scorer_factory {path!r}: cannot import "
                          f"{module_name!r} ({error})") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ConfigError(f"setting scorer_factory {path!r}: {module_name} has no callable "
                          f"{attr!r}")
    return factory  # type: ignore[no-any-return]


class ScorerPool:
    """One resident scorer per model name (``None`` = the service default)."""

    def __init__(self, factory: ScorerFactory, *, default_model: str | None, device: str,
                 cache_dir: Path | None, torch_threads: int) -> None:
        self._factory = factory
        self._default = default_model
        self._device = device
        self._cache_dir = cache_dir
        self._torch_threads = torch_threads
        self._scorers: dict[str | None, Scorer] = {}
        self._lock = threading.Lock()

    def model_name(self, model: str | None) -> str | None:
        return model or self._default

    def get(self, model: str | None = None) -> Scorer:
        name = self.model_name(model)
        with self._lock:
            if name not in self._scorers:
                started = time.monotonic()
                log.info("loading model %s", name or "(embedded default)")
                try:
                    scorer = self._factory(name, device=self._device, cache_dir=self._cache_dir)
                except (ConfigError, UnavailableError):
                    raise
                except Exception as error:
                    raise UnavailableError(f"model {name or '(embedded default)'} failed to "
                                           f"load: {type(error).__name__}: {error}") from None
                _limit_torch_threads(self._torch_threads)
                self._scorers[name] = scorer
                log.info("model %s loaded in %.1f s (model_key %s)", name or "(embedded)",
                         time.monotonic() - started, scorer.model_key)
            return self._scorers[name]

    def loaded(self) -> list[str]:
        with self._lock:
            return [name or "(default)" for name in self._scorers]


def _limit_torch_threads(n: int) -> None:
    """Keep the model from taking every core, so web threads answer while a job runs."""
    torch: Any = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)
