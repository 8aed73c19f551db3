"""Calibrations: the published registry, files, and leave-one-task-out OLS (method §6, §8)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from dataeff.efficiency import (
    FALLBACK_CALIBRATION,
    PUBLISHED_CALIBRATIONS,
    Calibration,
    CalibrationPair,
    calibration_for,
    fit_calibration,
    get_calibration,
    load_calibrations,
    load_pairs,
    load_registry,
    mean_baseline_mae,
    save_calibration,
    spearman,
)
from dataeff.efficiency.calibration import MAE_TO_SD
from dataeff.errors import ConfigError, InvalidInputError, NotFoundError

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


def test_file_round_trip_and_override(tmp_path: Path) -> None:
    path = tmp_path / "cal.json"
    mine = Calibration("my-org/My-Model", 0.6, 0.25, 0.02, 0.01, 0.09, "fit", aliases=("mine",),
                       n_tasks=12, loo_mae=0.07, spearman=0.7)
    save_calibration(path, mine)
    override = Calibration("llama", 0.5, 0.2, 0.0, 0.0, 0.05, "fit")
    save_calibration(path, override)
    loaded = {c.name: c for c in load_calibrations(path)}
    assert set(loaded) == {"my-org/My-Model", "llama"}
    assert loaded["my-org/My-Model"].loo_mae == 0.07
    assert loaded["my-org/My-Model"].source == f"file:{path}"
    registry = load_registry(path)
    assert registry.get("MINE").slope == 0.6
    assert registry.get("llama").slope == 0.5  # file entries win on names and aliases
    assert registry.get("meta-llama/Llama-3.1-8B-Instruct").slope == 0.545
    assert get_calibration("mine", registry).n_tasks == 12
    assert calibration_for("mine") is None  # the default registry is unchanged


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("[]", "must hold"),
        ('{"calibrations": {"m": 3}}', "'m' must be an object"),
        ('{"calibrations": {"m": {"slope": 1}}}', "lacks 'intercept'"),
        ('{"calibrations": {"m": {"slope": 1, "intercept": 0, "slope_se": 0, '
         '"intercept_se": 0, "residual_sd": 0.1, "slop": 2}}}', "unknown key 'slop'"),
        ('{"calibrations": {"m": {"slope": "1", "intercept": 0, "slope_se": 0, '
         '"intercept_se": 0, "residual_sd": 0.1}}}', "slope must be a number"),
        ('{"calibrations": {"m": {"slope": 1, "intercept": 0, "slope_se": 0, '
         '"intercept_se": 0, "residual_sd": -1}}}', "residual_sd must be >= 0"),
        ('{"calibrations": {"m": {"slope": 1, "intercept": 0, "slope_se": 0, '
         '"intercept_se": 0, "residual_sd": NaN}}}', "not valid JSON"),
    ],
)
def test_bad_calibration_files(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "cal.json"
    path.write_text(content)
    expected = InvalidInputError if "JSON" in match else ConfigError
    with pytest.raises(expected, match=match):
        load_registry(path)


def test_missing_calibration_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="calibration file not found"):
        load_registry(tmp_path / "none.json")


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


def test_load_pairs_csv_and_json(tmp_path: Path) -> None:
    csv_path = tmp_path / "pairs.csv"
    csv_path.write_text("Task,CoSLow,AUC\ncirca,0.55,0.67\nwic,0.2,0.19\n")
    assert load_pairs(csv_path) == [CalibrationPair("circa", 0.55, 0.67),
                                    CalibrationPair("wic", 0.2, 0.19)]
    for content in ('[{"task": "circa", "coslow": 0.55, "auc": 0.67}]',
                    '{"pairs": [{"task": "circa", "coslow": 0.55, "auc": 0.67}]}',
                    '{"circa": {"coslow": 0.55, "auc": 0.67}}'):
        json_path = tmp_path / "pairs.json"
        json_path.write_text(content)
        assert load_pairs(json_path) == [CalibrationPair("circa", 0.55, 0.67)]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("task,coslow\na,0.1\n", "lacks the column 'auc'"),
        ("task,coslow,auc\na,0.1,0.2\nb,high,0.3\n", "line 3: coslow must be a number"),
        ("task,coslow,auc\na,0.1,nan\n", "line 2: auc must be finite"),
        ("", "lacks the column 'task'"),
        ('[{"task": "a", "coslow": 0.1}]', "item 0 must be an object with task"),
    ],
)
def test_bad_pairs_files(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "pairs.txt"
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=match):
        load_pairs(path)
