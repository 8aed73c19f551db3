"""Stop verdicts (method §7.1; docs/architecture.md Decisions)."""

from __future__ import annotations

import math
import re

import pytest

from dataeff.efficiency import (
    Interval,
    StopCriteria,
    VerdictKind,
    budget_from_auc,
    decide,
    estimate_budget,
    get_calibration,
)
from dataeff.efficiency.curve import fastest_gain_at
from dataeff.efficiency.verdict import rounded
from dataeff.errors import ConfigError, InvalidInputError

CRITERIA = StopCriteria()
# AUC 0.6 ± 0.1 at τ = 0.9: n* = 1440, range about 780-2130
ESTIMATE = budget_from_auc(0.6, target=0.9, auc_interval=Interval(0.5, 0.7))


def _one_sentence(message: str) -> None:
    assert message.endswith(".")
    assert re.search(r"[.!?]\s", message) is None, message
    assert "\n" not in message


def test_collecting_until_min_examples_low_confidence_labeled() -> None:
    verdict = decide(ESTIMATE, annotated=500, low_confidence_annotated=20, criteria=CRITERIA)
    assert verdict.kind is VerdictKind.COLLECTING
    assert verdict.needed_low_confidence == 12
    assert (verdict.remaining, verdict.remaining_interval) == (None, None)
    assert "12 more" in verdict.message and "20 of 32" in verdict.message
    _one_sentence(verdict.message)


def test_collecting_without_an_estimate() -> None:
    verdict = decide(None, annotated=50, low_confidence_annotated=40, criteria=CRITERIA)
    assert verdict.kind is VerdictKind.COLLECTING and verdict.needed_low_confidence == 0
    _one_sentence(verdict.message)


def test_keep_labeling_with_remaining_and_range() -> None:
    verdict = decide(ESTIMATE, annotated=100, low_confidence_annotated=32, criteria=CRITERIA)
    span = ESTIMATE.examples_needed_interval
    assert verdict.kind is VerdictKind.KEEP_LABELING
    assert verdict.remaining == math.ceil(ESTIMATE.examples_needed - 100)
    assert verdict.remaining_interval is not None
    assert verdict.remaining_interval.as_list() == [math.ceil(span.low - 100),
                                                    math.ceil(span.high - 100)]
    assert verdict.remaining_interval.contains(verdict.remaining)
    assert verdict.needed_low_confidence == 0
    assert "about 1,300 more labeled examples (range 680–2,000)" in verdict.message
    assert "90% of the achievable gain" in verdict.message
    _one_sentence(verdict.message)


def test_target_reached() -> None:
    verdict = decide(ESTIMATE, annotated=1500, low_confidence_annotated=32, criteria=CRITERIA)
    assert verdict.kind is VerdictKind.TARGET_REACHED
    assert verdict.remaining == 0
    assert verdict.remaining_interval is not None
    assert verdict.remaining_interval.low == 0
    assert verdict.remaining_interval.high == math.ceil(
        ESTIMATE.examples_needed_interval.high - 1500)
    assert "1,500 labeled examples" in verdict.message
    _one_sentence(verdict.message)
    exact = decide(ESTIMATE, annotated=1537, low_confidence_annotated=32, criteria=CRITERIA)
    assert "The 1,537 labeled examples" in exact.message  # a known count is never rounded


def test_target_reached_comes_before_out_of_reach() -> None:
    far = budget_from_auc(0.04, target=0.9)
    assert far.examples_needed > 0.95 * 5000
    reached = decide(far, annotated=5000, low_confidence_annotated=32, criteria=CRITERIA)
    assert reached.kind is VerdictKind.TARGET_REACHED
    verdict = decide(far, annotated=10, low_confidence_annotated=32, criteria=CRITERIA)
    assert verdict.kind is VerdictKind.TARGET_OUT_OF_REACH
    assert "5,000" in verdict.message and "out of reach" in verdict.message
    _one_sentence(verdict.message)


def test_full_target_is_always_at_the_end_of_the_range() -> None:
    verdict = decide(ESTIMATE, annotated=100, low_confidence_annotated=32,
                     criteria=StopCriteria(target=1.0))
    assert verdict.kind is VerdictKind.TARGET_OUT_OF_REACH


def test_out_of_reach_threshold_is_95_percent_of_the_budget() -> None:
    # n* = 0.95 N  <=>  τ^(a) = 1 + log_N(0.95) with a = AUC / (1 - AUC)
    exponent = math.log(1 + math.log(0.95) / math.log(2000)) / math.log(0.8)
    boundary = exponent / (1 + exponent)
    criteria = StopCriteria(target=0.8, max_budget=2000, min_gain=0.0)
    kinds = {
        auc: decide(budget_from_auc(auc, target=0.8, max_budget=2000), annotated=0,
                    low_confidence_annotated=32, criteria=criteria).kind
        for auc in (boundary - 1e-3, boundary + 1e-3)
    }
    assert kinds == {boundary - 1e-3: VerdictKind.TARGET_OUT_OF_REACH,
                     boundary + 1e-3: VerdictKind.KEEP_LABELING}


def test_diminishing_returns() -> None:
    criteria = StopCriteria(min_gain=0.05, gain_step=100)
    verdict = decide(ESTIMATE, annotated=1000, low_confidence_annotated=32, criteria=criteria)
    gain = ESTIMATE.gain(1000, 100)
    assert gain < 0.05
    assert verdict.kind is VerdictKind.DIMINISHING_RETURNS
    assert verdict.remaining == math.ceil(ESTIMATE.examples_needed - 1000)
    assert f"only {gain * 100:.2g}%" in verdict.message and "5% threshold" in verdict.message
    _one_sentence(verdict.message)
    lenient = decide(ESTIMATE, annotated=1000, low_confidence_annotated=32,
                     criteria=StopCriteria(min_gain=gain / 2))
    assert lenient.kind is VerdictKind.KEEP_LABELING


def test_slow_start_is_not_diminishing_returns() -> None:
    """A convex curve (AUC 0.12, p = 22/3) gains little over the next 100 examples at n = 10
    because its gains lie ahead: keep labeling, not stop (returns grow until n = e^(p-1))."""
    estimate = budget_from_auc(0.12, target=0.9)
    criteria = StopCriteria(min_gain=0.05, gain_step=100, min_examples=8)
    assert estimate.gain(10, 100) < 0.05
    assert fastest_gain_at(0.12) == pytest.approx(math.exp(22 / 3 - 1))
    early = decide(estimate, annotated=10, low_confidence_annotated=8, criteria=criteria)
    assert early.kind is VerdictKind.KEEP_LABELING
    late = decide(estimate, annotated=4000, low_confidence_annotated=8,
                  criteria=StopCriteria(min_gain=0.05, gain_step=10, min_examples=8))
    assert estimate.examples_needed > 4000
    assert estimate.gain(4000, 10) < 0.05 and fastest_gain_at(0.12) <= 4000
    assert late.kind is VerdictKind.DIMINISHING_RETURNS


def test_fastest_gain_at_is_where_per_example_gain_peaks() -> None:
    for auc in (0.1, 0.2, 0.3, 0.45):
        peak = fastest_gain_at(auc)
        per_example = [budget_from_auc(auc, target=0.9).gain(n, 1)
                       for n in (peak * 0.7, peak, peak * 1.4)]
        assert per_example[1] >= per_example[0] and per_example[1] >= per_example[2]
    assert fastest_gain_at(0.6) == 1.0


def test_estimate_for_another_target_is_recomputed() -> None:
    criteria = StopCriteria(target=0.5)
    verdict = decide(ESTIMATE, annotated=0, low_confidence_annotated=32, criteria=criteria)
    expected = ESTIMATE.retarget(0.5)
    assert verdict.remaining == math.ceil(expected.examples_needed)
    assert "50% of the achievable gain" in verdict.message


def test_message_for_an_exact_auc_says_so() -> None:
    verdict = decide(budget_from_auc(0.6, target=0.9), annotated=0, low_confidence_annotated=32,
                     criteria=CRITERIA)
    assert "no range given" in verdict.message


def test_real_estimate_messages_are_sentences() -> None:
    estimate = estimate_budget(0.3, get_calibration("llama"), target=0.9)
    for annotated in (0, 100, 500, 1500, 4000):
        verdict = decide(estimate, annotated=annotated, low_confidence_annotated=32,
                         criteria=CRITERIA)
        _one_sentence(verdict.message)
        assert verdict.to_dict()["verdict"] == verdict.kind.value


def test_rounding_for_people() -> None:
    assert [rounded(v) for v in (7.4, 99.4, 812, 1449, 23_456)] == [7, 99, 810, 1400, 23_000]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"target": 0.0}, "target must lie in"),
        ({"target": 1.5}, "target"),
        ({"max_budget": 1}, "max_budget"),
        ({"min_gain": -0.1}, "min_gain must lie in"),
        ({"min_gain": math.nan}, "min_gain must be finite"),
        ({"gain_step": 0}, "gain_step must be an integer >= 1, got 0"),
        ({"min_examples": 1}, "min_examples must be an integer >= 2"),
        ({"min_examples": 3.5}, "min_examples"),
    ],
)
def test_bad_criteria_name_the_field(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        StopCriteria(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("annotated", "low", "match"),
    [(-1, 0, "annotated must be an integer >= 0, got -1"),
     (5, -2, "low_confidence_annotated must be"),
     (2.5, 0, "annotated")],
)
def test_bad_counts(annotated: object, low: object, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        decide(ESTIMATE, annotated=annotated, low_confidence_annotated=low,  # type: ignore[arg-type]
               criteria=CRITERIA)
