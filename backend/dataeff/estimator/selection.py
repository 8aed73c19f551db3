"""Which examples to annotate: a seeded sample from the least-confident decile (method §4).

numpy only. Ranking breaks ties by key, and the sample is drawn from the candidates in key
order, so the selection depends only on the (key, confidence) pairs and the seed, never on the
order of the input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dataeff.errors import InvalidInputError

DEFAULT_K = 32
DEFAULT_FRACTION = 0.10


@dataclass(frozen=True)
class Selection:
    """``selected``: keys to annotate, least confident first; ``low_confidence``: the keys of
    the bottom fraction (extended to the ``k`` least confident when smaller, ``extended``);
    ``threshold``: the highest confidence inside that set."""

    selected: tuple[str, ...]
    low_confidence: tuple[str, ...]
    threshold: float
    pool: int
    k: int
    seed: int
    fraction: float
    extended: bool


def low_confidence_keys(
    keys: Sequence[str], confidences: Sequence[float], *, fraction: float = DEFAULT_FRACTION,
    minimum: int = 0,
) -> tuple[list[str], bool]:
    """The ``ceil(fraction * n)`` least-confident keys (at least ``minimum`` of them, capped at
    the pool), least confident first; and whether ``minimum`` extended the set."""
    if len(keys) != len(confidences):
        raise InvalidInputError(f"{len(keys)} keys but {len(confidences)} confidences")
    if not keys:
        raise InvalidInputError("the pool is empty: no confidences to rank")
    if not 0.0 < fraction <= 1.0:
        raise InvalidInputError(f"fraction must lie in (0, 1], got {fraction}")
    if len(set(keys)) != len(keys):
        raise InvalidInputError("duplicate keys in the pool")
    for key, value in zip(keys, confidences, strict=True):
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidInputError(f"example {key!r}: confidence {value!r} is not a finite number")
    order = sorted(range(len(keys)), key=lambda i: (float(confidences[i]), keys[i]))
    size = math.ceil(fraction * len(keys) - 1e-9)
    extended = size < minimum
    size = min(len(keys), max(size, minimum))
    return [keys[i] for i in order[:size]], extended


def select_low_confidence(
    keys: Sequence[str],
    confidences: Sequence[float],
    *,
    k: int = DEFAULT_K,
    seed: int = 0,
    fraction: float = DEFAULT_FRACTION,
) -> Selection:
    """Sample ``k`` keys without replacement from the bottom ``fraction`` by confidence.

    When that fraction holds fewer than ``k`` examples, the set is extended to the ``k`` least
    confident (the whole pool if smaller) and ``extended`` is set.
    """
    if k < 1:
        raise InvalidInputError(f"k must be positive, got {k}")
    low, extended = low_confidence_keys(keys, confidences, fraction=fraction, minimum=k)
    by_key = dict(zip(keys, (float(c) for c in confidences), strict=True))
    candidates = sorted(low)
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(candidates), size=min(k, len(candidates)), replace=False)
    chosen = sorted((candidates[int(i)] for i in picked), key=lambda c: (by_key[c], c))
    return Selection(
        selected=tuple(chosen),
        low_confidence=tuple(low),
        threshold=by_key[low[-1]],
        pool=len(keys),
        k=len(chosen),
        seed=seed,
        fraction=fraction,
        extended=extended,
    )
