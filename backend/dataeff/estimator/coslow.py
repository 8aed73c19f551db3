"""CoS-Low of a set of labeled examples with a scorer (method §5 steps 2-4; numpy only).

The service grows a :class:`GradientBank` one example at a time; these helpers build one in
a single pass, the way the CLI and the benchmarks do.
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
    bank = GradientBank(scorer.sketch_dim)
    for key, row in zip(keys_of(examples), sketches, strict=True):
        bank.add(key, row)
    return bank


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
