"""One contract for every Scorer: the torch engine (tiny model) and the numpy FakeScorer."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from dataeff.errors import InvalidInputError
from dataeff.estimator import FakeScorer, Scorer
from dataeff.estimator.coslow import measure_coslow
from dataeff.estimator.engine import TorchScorer
from dataeff.estimator.spec import Example, TaskSpec


@pytest.fixture(scope="module", params=["torch", "fake"])
def scorer(request: pytest.FixtureRequest, make_scorer: Callable[..., TorchScorer]) -> Scorer:
    if request.param == "torch":
        return make_scorer(sketch_dim=512, max_new_tokens=6)
    return FakeScorer(sketch_dim=512)


def test_is_a_scorer(scorer: Scorer) -> None:
    assert isinstance(scorer, Scorer)
    assert scorer.sketch_dim == 512 and scorer.model_key


def test_confidence_shape_and_ranges(scorer: Scorer, spec: TaskSpec,
                                     labeled: list[Example]) -> None:
    results = scorer.confidence(spec, labeled)
    assert len(results) == len(labeled)
    for result in results:
        assert 0.0 < result.confidence <= 1.0 and result.perplexity >= 1.0
        assert isinstance(result.answer, str) and result.n_tokens >= 0
    assert scorer.confidence(spec, labeled) == results  # deterministic


def test_sketches_shape_dtype_and_determinism(scorer: Scorer, spec: TaskSpec,
                                              labeled: list[Example]) -> None:
    sketches = scorer.gradient_sketches(spec, labeled)
    assert sketches.shape == (len(labeled), 512) and sketches.dtype == np.float32
    assert np.isfinite(sketches).all() and (np.linalg.norm(sketches, axis=1) > 0).all()
    np.testing.assert_allclose(scorer.gradient_sketches(spec, labeled), sketches, rtol=1e-5,
                               atol=1e-7)


def test_changing_an_answer_changes_its_sketch_and_coslow(
    scorer: Scorer, spec: TaskSpec, labeled: list[Example]
) -> None:
    before = scorer.gradient_sketches(spec, labeled)
    flipped = [Example(e.inputs, "negative" if e.answer == "positive" else "positive", e.key)
               for e in labeled]
    after = scorer.gradient_sketches(spec, flipped)
    assert not np.allclose(before[0], after[0])
    assert measure_coslow(scorer, spec, labeled).value != measure_coslow(
        scorer, spec, flipped).value


def test_errors_name_the_example(scorer: Scorer, spec: TaskSpec) -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        scorer.confidence(spec, [])
    with pytest.raises(InvalidInputError, match="empty"):
        scorer.gradient_sketches(spec, [])
    with pytest.raises(InvalidInputError, match=r"'u1'.*no answer"):
        scorer.gradient_sketches(spec, [Example({"review": "x"}, None, "u1")])
    with pytest.raises(InvalidInputError, match=r"'e1'.*empty"):
        scorer.gradient_sketches(spec, [Example({"review": "x"}, "", "e1")])


def test_fake_sketches_group_by_answer(spec: TaskSpec) -> None:
    fake = FakeScorer(sketch_dim=2048)
    examples = [Example({"review": f"text {i}"}, "positive" if i < 4 else "negative", str(i))
                for i in range(8)]
    units = fake.gradient_sketches(spec, examples)
    units /= np.linalg.norm(units, axis=1, keepdims=True)
    gram = units @ units.T
    assert gram[0, 1] == pytest.approx(0.89, abs=0.06)  # same answer
    assert gram[0, 5] == pytest.approx(0.44, abs=0.06)  # different answers
