"""The gradient bank and CoS-Low (method §5 steps 3-4): known values, order-free, round-trips."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dataeff.errors import InvalidInputError, NotFoundError, NotReadyError
from dataeff.estimator.bank import GradientBank


def _angles(*degrees: float) -> list[np.ndarray]:
    return [np.array([math.cos(math.radians(d)), math.sin(math.radians(d))]) for d in degrees]


def _bank(vectors: list[np.ndarray], keys: list[str] | None = None) -> GradientBank:
    bank = GradientBank(len(vectors[0]))
    for key, vector in zip(keys or [f"k{i}" for i in range(len(vectors))], vectors, strict=True):
        bank.add(key, vector)
    return bank


def test_median_of_known_cosines() -> None:
    # angles 0, 60, 120 degrees: cosines 0.5 (0-60), -0.5 (0-120), 0.5 (60-120)
    result = _bank(_angles(0, 60, 120)).coslow(n_bootstrap=200)
    assert result.value == pytest.approx(0.5)
    assert (result.n_examples, result.n_pairs) == (3, 3)
    # four vectors, six pairs: the median is the mean of the two middle cosines
    vectors = _angles(0, 30, 90, 180)  # cos: .866, 0, -1, .5, -.866, 0
    assert _bank(vectors).coslow(n_bootstrap=50).value == pytest.approx(0.0)
    vectors = _angles(0, 10, 20, 50)  # cos 10,20,50,10,40,30 degrees
    expected = np.median(np.cos(np.radians([10, 20, 50, 10, 40, 30])))
    assert _bank(vectors).coslow(n_bootstrap=50).value == pytest.approx(expected)


def test_bootstrap_on_known_inputs() -> None:
    same = _bank([np.ones(4)] * 5)
    result = same.coslow(n_bootstrap=100)
    assert result.value == pytest.approx(1.0)
    assert set(np.round(result.samples, 6)) == {1.0}
    assert result.interval.low == pytest.approx(1.0) and result.interval.high == pytest.approx(1.0)
    # two examples: every resample with both of them holds the one pair
    pair = _bank(_angles(0, 60)).coslow(n_bootstrap=100)
    assert np.allclose(pair.samples, 0.5)
    # a spread set: samples vary, the interval holds the value, the level is kept
    rng = np.random.default_rng(0)
    spread = _bank(list(rng.standard_normal((12, 8)))).coslow(n_bootstrap=300, level=0.9)
    assert len(spread.samples) == 300 and np.std(spread.samples) > 0
    assert spread.interval.contains(spread.value) and spread.interval.level == 0.9


def test_result_depends_on_the_set_not_the_order() -> None:
    rng = np.random.default_rng(1)
    vectors = list(rng.standard_normal((9, 16)))
    keys = [f"task-{i}" for i in range(9)]
    forward = _bank(vectors, keys).coslow(seed=3)
    backward = _bank(vectors[::-1], keys[::-1]).coslow(seed=3)
    assert forward == backward
    assert _bank(vectors, keys).coslow(seed=4).samples != forward.samples


def test_add_remove_replace_and_bytes_round_trip() -> None:
    rng = np.random.default_rng(2)
    vectors = list(rng.standard_normal((6, 32)))
    bank = _bank(vectors)
    bank.remove("k2")
    assert "k2" not in bank and len(bank) == 5
    bank.add("k0", vectors[5])  # replace: the annotation changed
    assert len(bank) == 5
    rebuilt = _bank([vectors[5], vectors[1], vectors[3], vectors[4], vectors[5]],
                    ["k0", "k1", "k3", "k4", "k5"])
    assert bank.coslow(seed=1) == rebuilt.coslow(seed=1)
    loaded = GradientBank.from_bytes(bank.to_bytes())
    assert sorted(loaded.keys()) == sorted(bank.keys())
    np.testing.assert_allclose(loaded.cosines(), bank.cosines(), atol=1e-6)
    assert loaded.coslow(seed=1).value == pytest.approx(bank.coslow(seed=1).value, abs=1e-6)
    assert len(bank.to_bytes()) < 6 * 32 * 4 + 200


def test_from_rows_equals_adding_one_by_one_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    rows = [(f"k{i % 9}", rng.standard_normal(64)) for i in range(12)]   # k0-k2 replaced
    one_by_one = GradientBank(64)
    for key, vector in rows:
        one_by_one.add(key, vector)
    at_once = GradientBank.from_rows(64, rows)
    assert sorted(at_once.keys()) == sorted(one_by_one.keys()) == [f"k{i}" for i in range(9)]
    assert at_once.cosines().tobytes() == one_by_one.cosines().tobytes()
    assert at_once.coslow() == one_by_one.coslow()
    assert len(GradientBank.from_rows(64, [])) == 0
    with pytest.raises(InvalidInputError, match="k1"):
        GradientBank.from_rows(2, [("k0", [1.0, 0.0]), ("k1", [np.nan, 0.0])])


def test_bad_vectors_and_states_are_clear_errors() -> None:
    bank = GradientBank(3)
    with pytest.raises(InvalidInputError, match=r"'a'.*NaN"):
        bank.add("a", [1.0, float("nan"), 0.0])
    with pytest.raises(InvalidInputError, match=r"'b'.*zero"):
        bank.add("b", [0.0, 0.0, 0.0])
    with pytest.raises(InvalidInputError, match=r"'c'.*shape"):
        bank.add("c", [1.0, 2.0])
    with pytest.raises(NotFoundError, match="'x'"):
        bank.remove("x")
    bank.add("a", [1.0, 0.0, 0.0])
    with pytest.raises(NotReadyError, match="at least 2"):
        bank.coslow()
    with pytest.raises(InvalidInputError, match="magic"):
        GradientBank.from_bytes(b"garbage")
    with pytest.raises(InvalidInputError, match="corrupt"):
        GradientBank.from_bytes(bank.to_bytes()[:-3])
