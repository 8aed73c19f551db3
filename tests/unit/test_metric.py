"""The reference AUC metric (method §2.1, §2.2) against all 100 released values."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import pytest

from dataeff.datafiles import FileAuc, file_auc, load_human_eval, task_name
from dataeff.efficiency import GRID, curve_auc
from dataeff.errors import InvalidInputError

_REFERENCE = Path(__file__).resolve().parents[2].parent / "shared/reference/dataefficiency-results"
_CURVES = sorted(p.name for p in (_REFERENCE / "finetune_results").glob("*.json"))


def _expected(reference: Path, curve_file: str) -> dict[str, float]:
    model = curve_file.split("_", 1)[0]
    table = json.loads((reference / f"auc_res/{model}_auc_logscale_by_task_5000.json").read_text())
    record: dict[str, float] = table[task_name(curve_file)]
    return record


def _auc(reference: Path, curve_file: str) -> FileAuc:
    human = load_human_eval(reference / "human_eval.json")
    return file_auc(reference / "finetune_results" / curve_file, human_eval=human)


def test_reference_holds_100_curves_matching_100_records(reference_dir: Path) -> None:
    files = sorted(p.name for p in (reference_dir / "finetune_results").glob("*.json"))
    assert len(files) == 100
    records = {
        (model, task)
        for model in ("llama", "mistral", "qwen")
        for task in json.loads(
            (reference_dir / f"auc_res/{model}_auc_logscale_by_task_5000.json").read_text()
        )
    }
    assert {(f.split("_", 1)[0], task_name(f)) for f in files} == records


@pytest.mark.parametrize("curve_file", _CURVES)
def test_released_auc_reproduced(reference_dir: Path, curve_file: str) -> None:
    expected = _expected(reference_dir, curve_file)
    result = _auc(reference_dir, curve_file).result
    assert result.auc == pytest.approx(expected["extrapolation_auc"], abs=1e-9)
    assert result.max_acc == pytest.approx(expected["max_acc"], abs=1e-9)
    assert result.min_acc == pytest.approx(expected["min_acc"], abs=1e-9)
    assert result.ceiling == pytest.approx(expected["human_eval"], abs=1e-9)


@pytest.mark.parametrize(
    ("curve_file", "auc", "ceiling"),
    [
        ("llama_circa_full_result_v2.json", 0.671275, 0.923),
        ("llama_temporal_sequences_full_result_v2.json", 0.770346, 1.0),
        ("llama_wic_full_result_v2.json", 0.186541, 0.8582),
        ("qwen_overruling_full_result_v2.json", 0.351264, 0.9667),
    ],
)
def test_method_test_vectors(
    reference_dir: Path, curve_file: str, auc: float, ceiling: float
) -> None:
    result = _auc(reference_dir, curve_file).result
    assert round(result.auc, 6) == auc
    assert round(result.ceiling, 4) == ceiling


def test_quirk_no_zero_shot_starts_at_50(reference_dir: Path) -> None:
    result = _auc(reference_dir, "qwen_overruling_full_result_v2.json").result
    n, x, y = result.points[0]
    assert (n, round(x, 4), y) == (50, 0.4593, 0.0)
    assert [p[0] for p in result.points] == list(GRID)


def test_quirk_small_dataset_carries_last_value_to_5000(reference_dir: Path) -> None:
    result = _auc(reference_dir, "llama_temporal_sequences_full_result_v2.json").result
    assert max(n for n, _ in result.raw_points) == 750
    tail = [y for n, _, y in result.points if n >= 750]
    assert [n for n, _, _ in result.points if n >= 750] == [750, 1000, 2500, 5000]
    assert len(set(tail)) == 1
    assert result.points[-1][1] == 1.0


def test_quirk_hole_takes_previous_value(reference_dir: Path) -> None:
    result = _auc(reference_dir, "llama_toxicchat0124_full_result_v2.json").result
    raw = dict(result.raw_points)
    assert 1000 in raw and 4000 in raw and 2500 not in raw
    y = {n: yy for n, _, yy in result.points}
    assert y[2500] == y[1000]


def test_quirk_off_grid_budgets_kept_and_model_beats_human(reference_dir: Path) -> None:
    result = _auc(reference_dir, "llama_wic_full_result_v2.json").result
    ns = [n for n, _, _ in result.points]
    assert 4800 in ns and 4880 in ns
    assert result.ceiling == result.max_acc > 0.80


def test_quirk_per_point_metric_key_mix(reference_dir: Path) -> None:
    curve = json.loads(
        (reference_dir / "finetune_results/llama_boolean_expressions_full_result_v2.json")
        .read_text()
    )
    assert "accuracy" not in curve["5000"] and "exact_string_match_accuracy" in curve["5000"]
    result = _auc(reference_dir, "llama_boolean_expressions_full_result_v2.json").result
    assert dict(result.raw_points)[5000] == curve["5000"]["exact_string_match_accuracy"]


def test_generation_task_scored_with_f1(reference_dir: Path) -> None:
    scored = _auc(reference_dir, "llama_coqa_full_result_v2.json")
    assert scored.generation
    path = reference_dir / "finetune_results/llama_coqa_full_result_v2.json"
    curve = json.loads(path.read_text())
    assert dict(scored.result.raw_points)[0] == curve["0"]["f1"]


def test_non_numeric_human_score_is_missing(caplog: pytest.LogCaptureFixture) -> None:
    curve = {"0": {"accuracy": 0.2}, "50": {"accuracy": 0.5}, "5000": {"accuracy": 0.6}}
    with caplog.at_level(logging.WARNING, logger="dataeff.efficiency.metric"):
        result = curve_auc(curve, human_score="sequence_f1")
    assert result.ceiling == 0.6
    assert "sequence_f1" in caplog.text
    assert curve_auc(curve, human_score=True).ceiling == 0.6
    assert curve_auc(curve, human_score=float("nan")).ceiling == 0.6
    assert curve_auc(curve, human_score=0.9).ceiling == 0.9


def test_malformed_reference_human_score_treated_as_missing(reference_dir: Path) -> None:
    table = load_human_eval(reference_dir / "human_eval.json")
    assert isinstance(table["polish_sequence_labeling"], str)
    curve = {"0": {"f1": 0.1}, "50": {"f1": 0.3}, "100": {"f1": 0.4}}
    result = curve_auc(curve, human_score=table["polish_sequence_labeling"], generation=True)
    assert result.ceiling == 0.4


def test_hand_computed_auc() -> None:
    # zero-shot 0.2, then only n = 5000 at 0.6, human 1.0: every filled grid point carries
    # 0.2 forward (y = 0) and the last segment rises to y = 0.5
    curve = {0: {"accuracy": 0.2}, 5000: {"accuracy": 0.6}}
    result = curve_auc(curve, human_score=1.0)
    x2500 = math.log2(2500) / math.log2(5000)
    assert result.auc == pytest.approx((1 - x2500) * 0.5 / 2, abs=1e-15)
    assert result.points[-1] == (5000, 1.0, pytest.approx(0.5))
    assert (result.max_acc, result.min_acc, result.ceiling) == (0.6, 0.2, 1.0)


def test_few_shot_and_above_cutoff_points_are_dropped() -> None:
    base = {"0": {"accuracy": 0.1}, "50": {"accuracy": 0.4}, "5000": {"accuracy": 0.8}}
    extra = {**base, "4": {"accuracy": 0.9}, "32": {"accuracy": 0.95}, "10000": {"accuracy": 1.0}}
    assert curve_auc(extra).auc == curve_auc(base).auc
    assert curve_auc(extra).max_acc == 0.8


def test_max_budget_cuts_the_grid() -> None:
    curve = {"0": {"accuracy": 0.1}, "50": {"accuracy": 0.4}, "2500": {"accuracy": 0.7},
             "5000": {"accuracy": 0.9}}
    result = curve_auc(curve, max_budget=2500)
    assert result.points[-1][:2] == (2500, 1.0)
    assert result.max_acc == 0.7


@pytest.mark.parametrize(
    ("curve", "kwargs", "match"),
    [
        ({"0": {"accuracy": 0.1}}, {}, "at least 2"),
        ({"100": {"accuracy": 0.1}, "200": {"accuracy": 0.3}}, {}, "neither a zero-shot"),
        ({"0": {"accuracy": 0.5}, "50": {"accuracy": 0.5}}, {}, "does not exceed"),
        ({"0": {"accuracy": "high"}, "50": {"accuracy": 0.5}}, {}, "n=0: accuracy must be"),
        ({"0": {"accuracy": -0.1}, "50": {"accuracy": 0.5}}, {}, ">= 0"),
        ({"0": {"accuracy": float("nan")}, "50": {"accuracy": 0.5}}, {}, "finite"),
        ({"0": {"bleu": 0.1}, "50": {"accuracy": 0.5}}, {}, "n=0 has no accuracy"),
        ({"zero": {"accuracy": 0.1}, "50": {"accuracy": 0.5}}, {}, "'zero'"),
        ({"-5": {"accuracy": 0.1}, "50": {"accuracy": 0.5}}, {}, "non-negative"),
        ({"0": 0.1, "50": {"accuracy": 0.5}}, {}, "object of metrics"),
        ({"0": {"accuracy": 0.1}, "50": {"accuracy": 0.5}}, {"max_budget": 40}, "max_budget"),
        ({"0": {"accuracy": 0.1}, "50": {"accuracy": 0.5}}, {"generation": True}, "no f1"),
        ({"0": {"accuracy": 0.1}, 0: {"accuracy": 0.5}}, {}, "twice"),
    ],
)
def test_bad_curves_raise_clear_errors(
    curve: object, kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(InvalidInputError, match=match):
        curve_auc(curve, **kwargs)  # type: ignore[arg-type]
