"""A numpy scorer for service tests (until ``dataeff.estimator.fake.FakeScorer`` lands).

Deterministic: an example's confidence and gradient sketch are functions of its inputs (and
answer) alone, so a from-scratch recompute equals an incremental one. Sketches share a
common direction so that CoS-Low lands in a realistic range (about 0.3-0.6).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dataeff.estimator.scorer import Confidence
from dataeff.estimator.spec import Example, TaskSpec


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x00".join(parts).encode()).digest()[:8], "little")


class NumpyScorer:
    """Implements :class:`dataeff.estimator.scorer.Scorer` without a model.

    ``work`` > 0 burns that many (256x256) float matmuls per example, to stand in for a
    CPU-heavy model (benchmarks); numpy releases the GIL meanwhile, as torch does.
    """

    def __init__(self, dim: int = 64, work: int = 0, delay_s: float = 0.0) -> None:
        self._dim = dim
        self.work = work
        self.delay_s = delay_s
        self.calls: list[tuple[str, int]] = []
        self._common = np.random.default_rng(7).standard_normal(dim)

    @property
    def model_key(self) -> str:
        return f"numpy-fake-d{self._dim}"

    @property
    def sketch_dim(self) -> int:
        return self._dim

    def confidence(self, spec: TaskSpec, examples: Sequence[Example]) -> list[Confidence]:
        self.calls.append(("confidence", len(examples)))
        self._burn(len(examples))
        out = []
        for e in examples:
            rng = np.random.default_rng(_seed(spec.instruction, *sorted(e.inputs.items())[0]))
            value = float(0.05 + 0.9 * rng.random())
            out.append(Confidence("A", value, 1.0 / value, 1))
        return out

    def gradient_sketches(self, spec: TaskSpec,
                          examples: Sequence[Example]) -> npt.NDArray[np.float32]:
        self.calls.append(("gradient_sketches", len(examples)))
        self._burn(len(examples))
        rows = []
        for e in examples:
            assert e.answer is not None, "gradient sketches need labeled examples"
            rng = np.random.default_rng(_seed(*(f"{k}={v}" for k, v in sorted(e.inputs.items())),
                                              e.answer))
            rows.append(self._common + 1.2 * rng.standard_normal(self._dim))
        return np.asarray(rows, dtype=np.float32).reshape(len(examples), self._dim)

    def _burn(self, n: int) -> None:
        if self.delay_s:
            time.sleep(self.delay_s * n)
        if self.work:
            m = np.random.default_rng(0).standard_normal((256, 256))
            for _ in range(self.work * n):
                m = np.tanh(m @ m.T / 256.0)


def make_scorer(model: str | None = None, *, device: str = "auto",
                cache_dir: Path | None = None, **_: Any) -> NumpyScorer:
    """Scorer factory with the ``load_scorer`` signature (``DATAEFF_SCORER_FACTORY``)."""
    return NumpyScorer()


def make_slow_scorer(model: str | None = None, **_: Any) -> NumpyScorer:
    """Scorer whose calls sleep 50 ms per example (crash-recovery and coalescing tests)."""
    return NumpyScorer(delay_s=0.05)
