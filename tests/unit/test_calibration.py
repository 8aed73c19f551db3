"""Calibrations: the published registry, their data, and leave-one-task-out OLS (method §6, §8).

Reading and writing their files is tested in test_datafiles.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from dataeff.efficiency import (
    FALLBACK_CALIBRATION,
    PUBLISHED_CALIBRATIONS,
    Calibration,
    CalibrationPair,
    calibration_for,
    calibrations_from_data,
    calibrations_to_data,
    fit_calibration,
    get_calibration,
    mean_baseline_mae,
    pairs_from_csv,
    pairs_from_data,
    pairs_from_rows,
    spearman,
)
from dataeff.efficiency.calibration import MAE_TO_SD
from dataeff.errors import ConfigError, InvalidInputError, NotFoundError

_LINE = {"slope": 1, "intercept": 0, "slope_se": 0, "intercept_se": 0, "residual_sd": 0.1}

MAIN_TASKS = (  # the 30 tasks of method §10
    "ade_corpus_v2_classification", "anli", "banking77", "boolean_expressions", "boolq", "circa",
    "commonsense_qa", "fig_qa", "formal_fallacies_syllogisms_negation", "high", "hyperbaton",
    "medmcqa", "mmlu", "mnist_ascii", "mnli", "mrpc", "object_counting", "overruling", "qnli",
    "qqp", "quail", "reasoning_about_colored_objects", "rte", "sports_understanding", "sst2",
    "temporal_sequences", "toxicchat0124", "tracking_shuffled_objects", "web_of_lies", "wic",
)


@pytest.mark.parametrize(
    ("name", "canonical", "slope", "intercept"),
    [
        ("meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct", 0.545, 0.310),
        ("LLAMA-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct", 0.545, 0.310),
        (" llama ", "meta-llama/Llama-3.1-8B-Instruct", 0.545, 0.310),
        ("mistralai/mistral-7b-instruct-v0.3", "mistralai/Mistral-7B-Instruct-v0.3", 0.797, 0.357),
        ("Mistral", "mistralai/Mistral-7B-Instruct-v0.3", 0.797, 0.357),
        ("Qwen/Qwen2.5-14B-Instruct", "Qwen/Qwen2.5-14B-Instruct", 0.526, 0.305),
        ("qwen", "Qwen/Qwen2.5-14B-Instruct", 0.526, 0.305),
    ],
)
def test_published_calibrations_by_id_and_alias(
    name: str, canonical: str, slope: float, intercept: float
) -> None:
    calibration = get_calibration(name)
    assert (calibration.name, calibration.slope, calibration.intercept) == (
        canonical, slope, intercept
    )
    assert calibration.source == "published"
    assert calibration_for(name) is calibration


def test_published_uncertainties_and_residuals() -> None:
    llama, mistral, qwen = PUBLISHED_CALIBRATIONS
    assert (llama.slope_se, llama.intercept_se) == (0.005, 0.002)
    assert (mistral.slope_se, mistral.intercept_se) == (0.012, 0.002)
    assert (qwen.slope_se, qwen.intercept_se) == (0.025, 0.003)
    assert pytest.approx(math.sqrt(math.pi / 2)) == MAE_TO_SD
    assert llama.residual_sd == pytest.approx(0.086 * MAE_TO_SD)
    assert mistral.residual_sd == pytest.approx(0.124 * MAE_TO_SD)
    assert qwen.residual_sd == pytest.approx(0.126 * MAE_TO_SD)
    assert "Derived" in llama.note and "baseline" in mistral.note and "baseline" in qwen.note


def test_fallback_is_the_llama_line_with_the_widest_range() -> None:
    fallback = FALLBACK_CALIBRATION
    llama = get_calibration("llama")
    assert (fallback.slope, fallback.intercept) == (llama.slope, llama.intercept)
    assert fallback.source == "fallback"
    assert fallback.residual_sd == pytest.approx(0.128 * MAE_TO_SD)
    assert all(fallback.residual_sd > c.residual_sd for c in PUBLISHED_CALIBRATIONS)
    assert calibration_for("fallback") is None


def test_unknown_model() -> None:
    assert calibration_for("HuggingFaceTB/SmolLM2-135M-Instruct") is None
    with pytest.raises(NotFoundError, match=r"'gpt-2'.*meta-llama/Llama-3\.1-8B-Instruct"):
        get_calibration("gpt-2")


def test_predict_clamps_into_the_unit_interval() -> None:
    mistral = get_calibration("mistral")
    assert mistral.predict_raw(0.9) > 1
    assert 0 < mistral.predict(0.9) < 1
    assert mistral.predict(0.2) == pytest.approx(0.797 * 0.2 + 0.357)
    with pytest.raises(InvalidInputError, match="coslow must lie in"):
        mistral.predict(1.5)


def test_bad_calibrations_are_rejected() -> None:
    with pytest.raises(InvalidInputError, match="residual_sd must be >= 0"):
        Calibration("x", 0.5, 0.3, 0.0, 0.0, -0.1, "test")
    with pytest.raises(InvalidInputError, match="slope must be finite"):
        Calibration("x", math.nan, 0.3, 0.0, 0.0, 0.1, "test")
    with pytest.raises(InvalidInputError, match="name"):
        Calibration(" ", 0.5, 0.3, 0.0, 0.0, 0.1, "test")


def test_leave_one_out_recovers_a_known_line() -> None:
    rng = np.random.default_rng(20251231)
    coslow = rng.uniform(0.1, 0.7, size=60)
    auc = 0.6 * coslow + 0.25 + rng.normal(0, 0.02, size=60)
    fit = fit_calibration([
        CalibrationPair(f"task{i}", float(c), float(a))
        for i, (c, a) in enumerate(zip(coslow, auc, strict=True))
    ])
    assert fit.slope == pytest.approx(0.6, abs=3 * fit.slope_se)
    assert fit.intercept == pytest.approx(0.25, abs=3 * fit.intercept_se)
    assert fit.slope_se < 0.03
    assert fit.loo_mae == pytest.approx(0.02 * math.sqrt(2 / math.pi), rel=0.3)
    assert fit.loo_rmse >= fit.loo_mae
    assert fit.baseline_mae > 3 * fit.loo_mae
    assert fit.spearman is not None and fit.spearman > 0.9
    calibration = fit.to_calibration("synthetic")
    assert calibration.residual_sd == fit.loo_rmse and calibration.n_tasks == 60


def test_leave_one_out_by_hand() -> None:
    pairs = [CalibrationPair("a", 0.0, 0.1), CalibrationPair("b", 0.5, 0.4),
             CalibrationPair("c", 1.0, 0.5)]
    fit = fit_calibration(pairs)
    # without a: line through (0.5, 0.4), (1.0, 0.5) predicts 0.3 at 0 -> error +0.2
    # without b: line through (0, 0.1), (1, 0.5) predicts 0.3 at 0.5 -> error -0.1
    # without c: line through (0, 0.1), (0.5, 0.4) predicts 0.7 at 1 -> error +0.2
    assert [round(h.error, 12) for h in fit.held_out] == [0.2, -0.1, 0.2]
    assert fit.loo_mae == pytest.approx(0.5 / 3)
    assert fit.slope == pytest.approx(0.4) and fit.intercept == pytest.approx(0.4 / 3)
    assert [h.baseline_prediction for h in fit.held_out] == pytest.approx([0.45, 0.3, 0.25])


def test_exact_line_has_zero_errors() -> None:
    fit = fit_calibration([CalibrationPair(str(i), c, 0.5 * c + 0.2) for i, c in
                           enumerate((0.1, 0.3, 0.4, 0.8))])
    assert fit.loo_mae == pytest.approx(0.0, abs=1e-12)
    assert fit.slope_se == pytest.approx(0.0, abs=1e-9)


def test_mean_baseline_reproduces_method_8(reference_dir: Path) -> None:
    expected = {"llama": 0.128, "mistral": 0.124, "qwen": 0.126}
    for model, mae in expected.items():
        table = json.loads(
            (reference_dir / f"auc_res/{model}_auc_logscale_by_task_5000.json").read_text()
        )
        aucs = [table[task]["extrapolation_auc"] for task in MAIN_TASKS]
        assert round(mean_baseline_mae(aucs), 3) == mae


def test_spearman() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486832980505138)
    assert spearman([1, 1, 1], [1, 2, 3]) is None


@pytest.mark.parametrize(
    ("pairs", "match"),
    [
        ([("a", 0.1, 0.2), ("b", 0.2, 0.3)], "at least 3 tasks, got 2"),
        ([("a", 0.1, 0.2), ("a", 0.2, 0.3), ("c", 0.3, 0.3)], "task 'a' appears twice"),
        ([("a", 0.1, 0.2), ("b", 0.1, 0.3), ("c", 0.3, 0.3)], "without task 'c'"),
    ],
)
def test_bad_pairs(pairs: list[tuple[str, float, float]], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        fit_calibration([CalibrationPair(*p) for p in pairs])


def test_pair_validation() -> None:
    with pytest.raises(InvalidInputError, match="auc of task 'x' must lie in"):
        CalibrationPair("x", 0.2, 1.2)
    with pytest.raises(InvalidInputError, match="coslow of task 'x'"):
        CalibrationPair("x", 2.0, 0.2)


def test_calibration_data_round_trip() -> None:
    mine = Calibration("my-org/My-Model", 0.6, 0.25, 0.02, 0.01, 0.09, "fit", aliases=("mine",),
                       note="n", n_tasks=12, loo_mae=0.07, spearman=0.7)
    bare = Calibration("bare", 0.5, 0.2, 0.0, 0.0, 0.05, "fit")
    replaced = Calibration("bare", 0.4, 0.1, 0.0, 0.0, 0.05, "fit")
    data = calibrations_to_data([mine, bare, replaced])
    assert data["calibrations"]["bare"] == {"slope": 0.4, "intercept": 0.1, "slope_se": 0.0,
                                            "intercept_se": 0.0, "residual_sd": 0.05}
    assert data["calibrations"]["my-org/My-Model"]["aliases"] == ["mine"]
    loaded = calibrations_from_data(json.loads(json.dumps(data)), source="s", where="w")
    assert loaded == (replace(mine, source="s"), replace(replaced, source="s"))


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([], r"^here must hold"),
        ({"calibrations": []}, r"^here must hold"),
        ({"calibrations": {"m": 3}}, r"^here: calibration 'm' must be an object"),
        ({"calibrations": {"m": {"slope": 1}}}, r"^here: calibration 'm' lacks 'intercept'"),
        ({"calibrations": {"m": {**_LINE, "slop": 2}}}, "unknown key 'slop'"),
        ({"calibrations": {"m": {**_LINE, "slope": "1"}}}, "slope must be a number"),
        ({"calibrations": {"m": {**_LINE, "slope": True}}}, "slope must be a number"),
        ({"calibrations": {"m": {**_LINE, "residual_sd": -1}}}, "residual_sd must be >= 0"),
        ({"calibrations": {"m": {**_LINE, "aliases": "x"}}}, "aliases must be a list"),
        ({"calibrations": {"m": {**_LINE, "n_tasks": 2.5}}}, "n_tasks must be an integer"),
    ],
)
def test_bad_calibration_data(data: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        calibrations_from_data(data, source="s", where="here")


def test_pairs_from_csv_text() -> None:
    text = "Task, CoSLow ,AUC,extra\ncirca,0.55,0.67,x\n\nwic,0.2,0.19,y"
    assert pairs_from_csv(text, "w") == [CalibrationPair("circa", 0.55, 0.67),
                                         CalibrationPair("wic", 0.2, 0.19)]
    with pytest.raises(InvalidInputError, match=r"^w line 4: auc must be finite"):
        pairs_from_csv("task,coslow,auc\na,0.1,0.2\n\nb,0.1,inf", "w")
    with pytest.raises(InvalidInputError, match=r"^w lacks the column 'coslow'"):
        pairs_from_csv("task\n", "w")


def test_pairs_from_data_and_rows() -> None:
    expected = [CalibrationPair("circa", 0.55, 0.67)]
    assert pairs_from_data({"circa": {"coslow": "0.55", "auc": 0.67}}, "w") == expected
    assert pairs_from_rows(iter([{"task": " circa ", "coslow": 0.55, "auc": 0.67}]), "w") \
        == expected
    with pytest.raises(InvalidInputError, match=r"^w must hold a list"):
        pairs_from_data(3, "w")
    with pytest.raises(InvalidInputError, match=r"^w item 1 must be an object with task"):
        pairs_from_data({"a": {"coslow": 0.1, "auc": 0.2}, "b": 0.3}, "w")
    with pytest.raises(InvalidInputError, match=r"^w item 0: coslow must be a number"):
        pairs_from_rows([{"task": "a", "coslow": True, "auc": 0.2}], "w")
