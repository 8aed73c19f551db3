"""Per-example gradients: one batched backward equals the one-at-a-time loop (method §5)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from dataeff.estimator.engine import TorchScorer
from dataeff.estimator.lora import attach_lora
from dataeff.estimator.reference import loop_gradients
from dataeff.estimator.spec import Example, TaskSpec


def _relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.fixture(scope="module")
def exact(make_scorer: Callable[..., TorchScorer]) -> TorchScorer:
    return make_scorer(exact=True, batch_size=8)


@pytest.fixture(scope="module")
def loop(make_scorer: Callable[..., TorchScorer], spec: TaskSpec, labeled: list[Example]
         ) -> tuple[np.ndarray, float]:
    """The oracle: a real PEFT adapter with the same seed on a second copy of the model."""
    oracle = make_scorer()
    peft_model, adapted = attach_lora(oracle.loaded.model, oracle.lora)
    encoded = oracle.encode(spec, labeled)
    return loop_gradients(peft_model, adapted, encoded, oracle.loaded.device)


def test_batched_per_example_gradients_equal_the_loop(
    exact: TorchScorer, spec: TaskSpec, labeled: list[Example], loop: tuple[np.ndarray, float]
) -> None:
    batched = exact.gradient_sketches(spec, labeled)
    expected, _ = loop
    assert batched.shape == expected.shape == (len(labeled), exact.sketch_dim)
    for row in range(len(labeled)):
        assert _relative_error(batched[row], expected[row]) <= 1e-4, labeled[row].key


def test_lora_a_gradients_are_exactly_zero_at_initialisation(
    loop: tuple[np.ndarray, float]
) -> None:
    gradients, a_max = loop
    assert a_max == 0.0
    assert (np.abs(gradients) > 0).any(axis=1).all()  # while every B gradient is non-zero


def test_batch_size_and_order_do_not_change_results(
    make_scorer: Callable[..., TorchScorer], exact: TorchScorer, spec: TaskSpec,
    labeled: list[Example],
) -> None:
    full = exact.gradient_sketches(spec, labeled)
    single = make_scorer(exact=True, batch_size=1).gradient_sketches(spec, labeled[::-1])[::-1]
    np.testing.assert_allclose(single, full, rtol=1e-4, atol=1e-7)


def test_sketch_is_linear_in_the_exact_gradient(
    make_scorer: Callable[..., TorchScorer], exact: TorchScorer, spec: TaskSpec,
    labeled: list[Example],
) -> None:
    """The in-hook sketch equals sketching the concatenated exact gradient afterwards."""
    import torch

    sketched = make_scorer(sketch_dim=512).gradient_sketches(spec, labeled)
    scorer = make_scorer(sketch_dim=512)
    assert scorer.sketch is not None
    full = torch.from_numpy(exact.gradient_sketches(spec, labeled))
    np.testing.assert_allclose(sketched, scorer.sketch.project(full).numpy(),
                               rtol=1e-4, atol=1e-6)


def test_only_lora_b_is_stored(exact: TorchScorer) -> None:
    b_params = sum(layer.module.out_features * 64 for layer in exact.layers)
    assert exact.sketch_dim == b_params
    assert len(exact.layers) == 2 * 7  # two blocks, seven projections each
    assert all(layer.lora_a.shape == (64, layer.module.in_features) for layer in exact.layers)


def test_the_adapter_is_seeded_per_module(make_scorer: Callable[..., TorchScorer]) -> None:
    import torch

    one, again, other = make_scorer(), make_scorer(), make_scorer(seed=1)
    for a, b, c in zip(one.layers, again.layers, other.layers, strict=True):
        assert torch.equal(a.lora_a, b.lora_a) and not torch.equal(a.lora_a, c.lora_a)
        bound = 1 / a.module.in_features**0.5
        assert float(a.lora_a.abs().max()) <= bound
