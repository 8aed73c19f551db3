"""The confidence pass (method §3): batched, self-scoring, equal to the two-pass reference."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch

from dataeff.errors import InvalidInputError, UnavailableError
from dataeff.estimator.engine import TorchScorer
from dataeff.estimator.prompts import prompt_ids
from dataeff.estimator.reference import two_pass_confidence
from dataeff.estimator.spec import Example, TaskSpec


@pytest.fixture(scope="module")
def scorer(make_scorer: Callable[..., TorchScorer]) -> TorchScorer:
    return make_scorer(batch_size=4, max_new_tokens=12)


def test_batched_confidence_equals_the_two_pass_reference(
    scorer: TorchScorer, spec: TaskSpec, labeled: list[Example]
) -> None:
    batched = scorer.confidence(spec, labeled)
    for example, result in zip(labeled, batched, strict=True):
        expected = two_pass_confidence(scorer.scorer, prompt_ids(scorer.loaded.tokenizer, spec,
                                                                 example))
        assert result.answer == expected.answer, example.key
        assert result.n_tokens == expected.n_tokens
        assert result.confidence == pytest.approx(expected.confidence, abs=1e-5)
        assert result.perplexity == pytest.approx(expected.perplexity, rel=1e-4)
        assert 0.0 < result.confidence <= 1.0 and result.perplexity >= 1.0


def test_batch_size_and_order_do_not_change_results(
    make_scorer: Callable[..., TorchScorer], scorer: TorchScorer, spec: TaskSpec,
    labeled: list[Example],
) -> None:
    one = make_scorer(batch_size=1, max_new_tokens=12).confidence(spec, labeled[::-1])[::-1]
    for a, b in zip(one, scorer.confidence(spec, labeled), strict=True):
        assert a.answer == b.answer
        assert a.confidence == pytest.approx(b.confidence, abs=1e-5)


def test_special_and_whitespace_tokens_are_not_scored(scorer: TorchScorer) -> None:
    tokenizer = scorer.loaded.tokenizer
    start = tokenizer.convert_tokens_to_ids("<|im_start|>")
    end = tokenizer.eos_token_id
    words = tokenizer("great movie", add_special_tokens=False)["input_ids"]
    blank = tokenizer("\n", add_special_tokens=False)["input_ids"]
    assert len(blank) == 1
    tokens = [words[0], start, blank[0], words[1], end, tokenizer.pad_token_id]
    logp = [math.log(0.5), math.log(0.99), math.log(0.98), math.log(0.25), math.log(0.97), 0.0]
    result = scorer.scorer.summarise("k", tokens, logp)
    assert result.n_tokens == 2
    assert result.confidence == pytest.approx((0.5 + 0.25) / 2)
    assert result.perplexity == pytest.approx(math.exp(-(math.log(0.5) + math.log(0.25)) / 2))
    assert result.answer.replace(" ", "").replace("\n", "") == "greatmovie"


def test_an_empty_answer_scores_the_end_token(scorer: TorchScorer) -> None:
    end = scorer.loaded.tokenizer.eos_token_id
    result = scorer.scorer.summarise("k", [end], [math.log(0.8)])
    assert (result.answer, result.n_tokens) == ("", 0)
    assert result.confidence == pytest.approx(0.8)


def test_simulated_out_of_memory_halves_the_batch(
    make_scorer: Callable[..., TorchScorer], scorer: TorchScorer, spec: TaskSpec,
    labeled: list[Example], monkeypatch: pytest.MonkeyPatch,
) -> None:
    small = make_scorer(batch_size=8, max_new_tokens=12)
    real = small.scorer.score_batch
    sizes: list[int] = []

    def flaky(keys: list[str], prompts: list[list[int]]) -> list[object]:
        sizes.append(len(keys))
        if len(keys) > 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(keys, prompts)  # type: ignore[return-value]

    monkeypatch.setattr(small.scorer, "score_batch", flaky)
    results = small.confidence(spec, labeled)
    assert sizes[:3] == [8, 4, 2]
    assert small.confidence_batcher.batch_size == 2
    assert [r.answer for r in results] == [r.answer for r in scorer.confidence(spec, labeled)]


def test_errors_name_the_item(scorer: TorchScorer, spec: TaskSpec) -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        scorer.confidence(spec, [])
    long = Example({"review": "great movie " * 200}, key="too-long")
    with pytest.raises(InvalidInputError, match=r"'too-long'.*context of 160"):
        scorer.confidence(spec, [long])
    with pytest.raises(InvalidInputError, match=r"'no-field'.*missing input field"):
        scorer.confidence(spec, [Example({"text": "x"}, key="no-field")])


def test_nan_in_the_model_is_an_error(
    make_scorer: Callable[..., TorchScorer], spec: TaskSpec, labeled: list[Example]
) -> None:
    broken = make_scorer(max_new_tokens=4)
    with torch.no_grad():
        broken.loaded.model.get_output_embeddings().weight[5, 3] = float("nan")
    with pytest.raises(UnavailableError, match=r"'ex0'.*NaN"):
        broken.confidence(spec, labeled[:1])
    with pytest.raises(UnavailableError, match="NaN"):
        broken.gradient_sketches(spec, labeled[:2])
