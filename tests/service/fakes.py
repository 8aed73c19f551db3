"""Scorers for service tests, benchmarks and their subprocesses (no torch).

The service tests use :class:`dataeff.estimator.fake.FakeScorer`, the numpy twin of the torch
scorer; this module adds what only tests and benchmarks need: a cost per example
(:class:`SlowFakeScorer`) and factories with the ``load_scorer`` signature, named by module
path in ``DATAEFF_SCORER_FACTORY`` (``fakes:make_scorer``; ``tests/service`` on the path).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dataeff.estimator.fake import FakeScorer
from dataeff.estimator.scorer import Confidence
from dataeff.estimator.spec import Example, TaskSpec


class SlowFakeScorer(FakeScorer):
    """:class:`FakeScorer` (same numbers, same ``model_key``) that costs time per example.

    ``delay_s`` sleeps that long per example (a model waiting on a device); ``work`` burns that
    many 256x256 float matmuls per example (a CPU-heavy model; numpy releases the GIL meanwhile,
    as torch does). Both default to 0; other options go to :class:`FakeScorer`.
    """

    def __init__(self, sketch_dim: int = 256, *, work: int = 0, delay_s: float = 0.0,
                 **options: Any) -> None:
        super().__init__(sketch_dim, **options)
        self.work = work
        self.delay_s = delay_s

    def confidence(self, spec: TaskSpec, examples: Sequence[Example]) -> list[Confidence]:
        self._burn(len(examples))
        return super().confidence(spec, examples)

    def gradient_sketches(self, spec: TaskSpec,
                          examples: Sequence[Example]) -> npt.NDArray[np.float32]:
        self._burn(len(examples))
        return super().gradient_sketches(spec, examples)

    def _burn(self, n: int) -> None:
        if self.delay_s:
            time.sleep(self.delay_s * n)
        if self.work:
            m = np.random.default_rng(0).standard_normal((256, 256))
            for _ in range(self.work * n):
                m = np.tanh(m @ m.T / 256.0)


def make_scorer(model: str | None = None, *, device: str = "auto",
                cache_dir: Path | None = None, **_: Any) -> FakeScorer:
    """Scorer factory with the ``load_scorer`` signature (``DATAEFF_SCORER_FACTORY``)."""
    return FakeScorer()
