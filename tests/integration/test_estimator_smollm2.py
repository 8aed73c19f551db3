"""The embedded SmolLM2-135M-Instruct end to end on the paper's circa demo files (method §11).

Confidence on a slice of the unlabeled pool, then CoS-Low on the 32 annotated low-confidence
examples. Needs the prepared model cache (`make model`); converts it once otherwise.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from dataeff.estimator import load_scorer
from dataeff.estimator.coslow import build_bank
from dataeff.estimator.engine import TorchScorer
from dataeff.estimator.examples_io import load_examples
from dataeff.estimator.prompts import prompt_ids, render_prompt
from dataeff.estimator.reference import two_pass_confidence

pytestmark = pytest.mark.slow

POOL_SLICE = 32


@pytest.fixture(scope="module")
def scorer() -> TorchScorer:
    loaded = load_scorer(device="cpu", batch_size=16)
    assert isinstance(loaded, TorchScorer)
    return loaded


def test_confidence_on_a_slice_of_the_pool(scorer: TorchScorer, reference_dir: Path) -> None:
    spec, pool = load_examples(reference_dir / "coslow_data" / "task_data_unannotated.json")
    assert len(pool) == 2500
    results = scorer.confidence(spec, pool[:POOL_SLICE])
    assert len(results) == POOL_SLICE
    assert all(0.0 < r.confidence <= 1.0 and r.perplexity >= 1.0 for r in results)
    assert sum(r.n_tokens > 0 for r in results) >= POOL_SLICE - 2  # SmolLM2 does answer
    # the batched, self-scoring pass equals the reference's two passes (one example checked)
    for example, result in list(zip(pool, results, strict=False))[:1]:
        expected = two_pass_confidence(scorer.scorer,
                                       prompt_ids(scorer.loaded.tokenizer, spec, example))
        assert result.answer == expected.answer
        assert result.confidence == pytest.approx(expected.confidence, abs=2e-4)


def test_coslow_on_the_32_annotated_examples(scorer: TorchScorer, reference_dir: Path) -> None:
    spec, examples = load_examples(
        reference_dir / "coslow_data" / "low_conf_examples_annotated.json", labeled=True)
    tokenizer = scorer.loaded.tokenizer
    for example in examples:  # the answer boundary never merges tokens here (method §5)
        prompt = render_prompt(tokenizer, spec, example)
        joint = tokenizer(prompt + (example.answer or ""), add_special_tokens=False)["input_ids"]
        assert joint == list(scorer.encode(spec, [example])[0].ids)
    started = time.perf_counter()
    bank = build_bank(scorer, spec, examples)
    result = bank.coslow(seed=0)
    seconds = time.perf_counter() - started
    print(f"\nSmolLM2 CoS-Low on circa: {result.value:.4f} "
          f"[{result.interval.low:.4f}, {result.interval.high:.4f}] in {seconds:.1f} s")
    assert (result.n_examples, result.n_pairs) == (32, 496)
    assert result.interval.contains(result.value)
    assert 0.0 < result.value < 1.0  # gradients of one task's examples point the same way
    assert result.interval.high - result.interval.low < 0.3
    cosines = bank.cosines()
    assert np.isfinite(cosines).all() and len(cosines) == 496
