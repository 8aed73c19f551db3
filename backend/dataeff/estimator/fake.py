"""A deterministic numpy twin of the torch scorer, for tests of other layers (no torch).

Same protocol and error behaviour as :class:`~dataeff.estimator.engine.TorchScorer`;
every number derives from SHA-256 hashes of the texts, so results are reproducible across
processes. Gradient sketches are sums of seeded Gaussian directions::

    sketch(example) = task(spec) + answer_weight · dir(answer) + noise · dir(inputs, answer)

so examples sharing an answer have cosines near (1 + a²)/(1 + a² + n²) (0.89 with the
defaults), different answers near 1/(1 + a² + n²) (0.44), and changing an answer changes
the sketch and therefore CoS-Low.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from dataeff.errors import InvalidInputError
from dataeff.estimator.prompts import system_turn, user_turn
from dataeff.estimator.scorer import Confidence
from dataeff.estimator.spec import Example, TaskSpec, keys_of


class FakeScorer:
    """Hash-derived confidences and gradient sketches; ``sketch_dim`` default 256."""

    def __init__(self, sketch_dim: int = 256, *, seed: int = 0, answer_weight: float = 1.0,
                 noise: float = 0.5) -> None:
        if sketch_dim < 1:
            raise InvalidInputError(f"sketch dimension must be positive, got {sketch_dim}")
        self._dim = sketch_dim
        self.seed = seed
        self.answer_weight = answer_weight
        self.noise = noise

    @property
    def model_key(self) -> str:
        return f"fake/d{self._dim}/s{self.seed}/a{self.answer_weight:g}/n{self.noise:g}"

    @property
    def sketch_dim(self) -> int:
        return self._dim

    def confidence(self, spec: TaskSpec, examples: Sequence[Example]) -> list[Confidence]:
        """Confidence uniform-looking in [0.05, 0.95) from the prompt's hash."""
        _require(examples)
        results = []
        for example in examples:
            digest = self._digest("confidence", system_turn(spec), user_turn(spec, example))
            u = int.from_bytes(digest[:8], "little") / 2**64
            confidence = 0.05 + 0.9 * u
            pick = int.from_bytes(digest[8:12], "little")
            answer = (spec.answer_choices[pick % len(spec.answer_choices)]
                      if spec.answer_choices else f"answer {pick % 97}")
            results.append(Confidence(answer, confidence, math.exp(-math.log(confidence)),
                                      1 + pick % 5))
        return results

    def gradient_sketches(self, spec: TaskSpec, examples: Sequence[Example]
                          ) -> npt.NDArray[np.float32]:
        """Rows as in the module doc, shape (n, sketch_dim), float32."""
        _require(examples)
        task = self._direction("task", system_turn(spec))
        rows = []
        for key, example in zip(keys_of(examples), examples, strict=True):
            if example.answer is None:
                raise InvalidInputError(f"example {key!r}: no answer (gradients need a label)")
            if not example.answer.strip():
                raise InvalidInputError(f"example {key!r}: the answer is empty")
            text = user_turn(spec, example)
            rows.append(task + self.answer_weight * self._direction("answer", example.answer)
                        + self.noise * self._direction("example", text, example.answer))
        return np.stack(rows).astype(np.float32)

    def _digest(self, *parts: str) -> bytes:
        return hashlib.sha256("\x00".join((str(self.seed), *parts)).encode()).digest()

    def _direction(self, *parts: str) -> npt.NDArray[np.float64]:
        seed = int.from_bytes(self._digest(*parts)[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(self._dim)
        return np.asarray(vector / np.sqrt(self._dim), dtype=np.float64)


def _require(examples: Sequence[Example]) -> None:
    if not examples:
        raise InvalidInputError("no examples given (the pool is empty)")
