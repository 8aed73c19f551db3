"""Selection (method §4): bottom decile by confidence, seeded sample, order-free."""

from __future__ import annotations

import numpy as np
import pytest

from dataeff.errors import InvalidInputError
from dataeff.estimator.selection import low_confidence_keys, select_low_confidence


def _pool(n: int, seed: int = 0) -> tuple[list[str], list[float]]:
    rng = np.random.default_rng(seed)
    return [f"t{i}" for i in range(n)], [float(c) for c in rng.uniform(0.1, 0.99, n)]


def test_samples_k_from_the_bottom_decile() -> None:
    keys, conf = _pool(500)
    selection = select_low_confidence(keys, conf, k=32, seed=1)
    decile = set(np.array(keys)[np.argsort(conf)[:50]])
    assert len(selection.low_confidence) == 50 and set(selection.low_confidence) == decile
    assert len(selection.selected) == 32 == len(set(selection.selected))
    assert set(selection.selected) <= decile
    assert selection.threshold == pytest.approx(sorted(conf)[49])
    assert not selection.extended


def test_deterministic_for_a_seed_and_independent_of_input_order() -> None:
    keys, conf = _pool(400)
    first = select_low_confidence(keys, conf, seed=7)
    again = select_low_confidence(keys[::-1], conf[::-1], seed=7)
    other = select_low_confidence(keys, conf, seed=8)
    assert first.selected == again.selected
    assert first.selected != other.selected


def test_small_pools_extend_to_the_k_least_confident() -> None:
    keys, conf = _pool(100)
    selection = select_low_confidence(keys, conf, k=32, seed=0)
    assert selection.extended and len(selection.low_confidence) == 32
    assert set(selection.selected) == set(np.array(keys)[np.argsort(conf)[:32]])
    tiny = select_low_confidence(keys[:5], conf[:5], k=32)
    assert tiny.k == 5


def test_ties_break_by_key() -> None:
    low, _ = low_confidence_keys(["b", "a", "c", "d"], [0.5, 0.5, 0.9, 0.9], fraction=0.5)
    assert low == ["a", "b"]


def test_bad_input_names_the_item() -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        select_low_confidence([], [])
    with pytest.raises(InvalidInputError, match=r"'t1'.*nan"):
        select_low_confidence(["t0", "t1"], [0.5, float("nan")])
    with pytest.raises(InvalidInputError, match="fraction"):
        select_low_confidence(["t0"], [0.5], fraction=0.0)
    with pytest.raises(InvalidInputError, match="duplicate"):
        select_low_confidence(["t0", "t0"], [0.5, 0.4])
