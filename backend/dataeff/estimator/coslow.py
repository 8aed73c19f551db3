"""CoS-Low of a set of labeled examples with a scorer (method §5 steps 2-4; numpy only).

The service rebuilds a :class:`GradientBank` from its stored sketches in each job
(:meth:`GradientBank.from_rows`); these helpers build one from a scorer's sketches, the way
the CLI and the benchmarks do.
"""

from __future__ import annotations

from collections.abc import Sequence

from dataeff.estimator.bank import CosLow, GradientBank
from dataeff.estimator.scorer import Scorer
from dataeff.estimator.spec import Example, TaskSpec, keys_of

DEFAULT_BOOTSTRAP = 1000


def build_bank(scorer: Scorer, spec: TaskSpec, examples: Sequence[Example]) -> GradientBank:
    """A bank of the examples' gradient sketches, keyed by example key (position if empty)."""
    sketches = scorer.gradient_sketches(spec, examples)
    return GradientBank.from_rows(scorer.sketch_dim, zip(keys_of(examples), sketches,
                                                          strict=True))


def measure_coslow(
    scorer: Scorer,
    spec: TaskSpec,
    examples: Sequence[Example],
    *,
    seed: int = 0,
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    level: float = 0.8,
) -> CosLow:
    """Median pairwise gradient cosine with its bootstrap interval (needs >= 2 examples)."""
    return build_bank(scorer, spec, examples).coslow(n_bootstrap=n_bootstrap, level=level,
                                                     seed=seed)
