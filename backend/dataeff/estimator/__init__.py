"""The language-model side of dataeff: confidence pass, LoRA gradients, CoS-Low (method §3-§5).

Importing this package never imports torch: it re-exports the light names (specs, the
:class:`Scorer` protocol, the numpy gradient bank, selection, the fake scorer) and
:func:`load_scorer`, which imports the torch engine when called. A missing heavy package
raises :class:`~dataeff.errors.UnavailableError` naming it.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from dataeff.errors import InvalidInputError, UnavailableError
from dataeff.estimator.bank import CosLow, GradientBank
from dataeff.estimator.fake import FakeScorer
from dataeff.estimator.paths import EMBEDDED_MODEL, default_cache_dir
from dataeff.estimator.scorer import Confidence, Scorer
from dataeff.estimator.selection import Selection, low_confidence_keys, select_low_confidence
from dataeff.estimator.spec import Example, TaskSpec

__all__ = [
    "EMBEDDED_MODEL",
    "Confidence",
    "CosLow",
    "Example",
    "FakeScorer",
    "GradientBank",
    "Scorer",
    "Selection",
    "TaskSpec",
    "default_cache_dir",
    "load_scorer",
    "low_confidence_keys",
    "select_low_confidence",
]


def load_scorer(
    model: str | None = None,
    *,
    device: str = "auto",
    cache_dir: Path | None = None,
    **options: Any,
) -> Scorer:
    """Load a causal LM and return its torch :class:`Scorer`.

    ``model``: ``None`` for the embedded SmolLM2-135M-Instruct (converted into the cache on
    first use, never downloaded), a local directory, a model prepared in the cache, or a hub id
    in the local Hugging Face cache. ``device``: ``"auto"`` (CUDA + bfloat16 when available,
    else CPU + float32), ``"cpu"``, ``"cuda"``, ``"cuda:1"``. ``options``: ``dtype`` and the
    keyword arguments of :class:`dataeff.estimator.engine.TorchScorer` (``seed``,
    ``sketch_dim``, ``exact``, ``lora_r``, ``lora_alpha``, ``lora_targets``, ``batch_size``,
    ``max_new_tokens``, ``max_length``, ``progress``).
    """
    try:
        from dataeff.estimator.engine import TorchScorer
        from dataeff.estimator.models import load_model
    except ImportError as error:
        raise UnavailableError(
            f"the estimator needs the package {error.name or str(error)!r}, which is not "
            "installed (pip install -e . installs it)"
        ) from None
    dtype = options.pop("dtype", None)
    allowed = set(inspect.signature(TorchScorer.__init__).parameters) - {"self", "loaded"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise InvalidInputError(f"unknown scorer option(s) {unknown}; known: {sorted(allowed)}")
    loaded = load_model(model, device=device, dtype=dtype, cache_dir=cache_dir)
    return TorchScorer(loaded, **options)
