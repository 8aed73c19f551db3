"""The seam between the service and the language model (method §3, §5).

The service, the CLI and the benchmarks talk to a :class:`Scorer`; the torch implementation
lives in :mod:`dataeff.estimator.engine` and is loaded lazily, so importing this module never
imports torch. Results are numpy arrays and frozen dataclasses, never tensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from dataeff.estimator.spec import Example, TaskSpec


@dataclass(frozen=True)
class Confidence:
    """Zero-shot confidence of the model on one unlabeled example (method §3).

    ``answer``: the greedy generation (special tokens removed); ``confidence``: mean over the
    generated answer tokens of the maximum softmax probability, in (0, 1]; ``perplexity``:
    exp of the mean cross-entropy of the generated tokens, >= 1; ``n_tokens``: how many
    generated tokens were scored (special and end tokens masked).
    """

    answer: str
    confidence: float
    perplexity: float
    n_tokens: int


@runtime_checkable
class Scorer(Protocol):
    """What the service needs from a model; implementations: the torch engine and test fakes."""

    @property
    def model_key(self) -> str:
        """Identifies model + LoRA + sketch configuration: sketches are comparable only when
        their keys are equal."""
        ...

    @property
    def sketch_dim(self) -> int:
        """Length of each gradient sketch."""
        ...

    def confidence(self, spec: TaskSpec, examples: Sequence[Example]) -> list[Confidence]:
        """One :class:`Confidence` per example, in order."""
        ...

    def gradient_sketches(
        self, spec: TaskSpec, examples: Sequence[Example]
    ) -> npt.NDArray[np.float32]:
        """Per-example LoRA gradient sketches, shape ``(len(examples), sketch_dim)``, float32.

        Every example must carry an answer; the gradient is that of its mean answer-token loss
        under a fresh, seeded LoRA adapter (method §5).
        """
        ...
