"""dataeff.datafiles: JSON/text files, curve files, calibration and pairs files (method §2, §6).

Every error names the file; parsing itself is tested on data in test_calibration/test_metric.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from dataeff.datafiles import (
    file_auc,
    load_calibrations,
    load_human_eval,
    load_pairs,
    load_registry,
    read_json,
    read_text,
    save_calibration,
    task_name,
    write_json,
    write_jsonl,
)
from dataeff.efficiency import (
    Calibration,
    CalibrationPair,
    calibration_for,
    get_calibration,
)
from dataeff.errors import ConfigError, InvalidInputError, NotFoundError


def test_read_text_and_json_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"curve file not found: .*none\.json"):
        read_text(tmp_path / "none.json", "curve")
    with pytest.raises(InvalidInputError, match=r"curve path is a directory, not a file"):
        read_text(tmp_path, "curve")
    (tmp_path / "latin.json").write_bytes(b'{"caf\xe9": 1}')
    with pytest.raises(InvalidInputError, match=r"curve file .*latin\.json is not UTF-8 text"):
        read_json(tmp_path / "latin.json", "curve")
    (tmp_path / "inf.json").write_text('{"a": Infinity}')
    with pytest.raises(InvalidInputError, match=r"inf\.json is not valid JSON: Infinity"):
        read_json(tmp_path / "inf.json", "curve")
    (tmp_path / "cut.json").write_text('{"a": 1,\n')
    with pytest.raises(InvalidInputError, match=r"cut\.json is not valid JSON: .*line 2"):
        read_json(tmp_path / "cut.json", "curve")


def test_write_json_round_trip_and_failure(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "out.json"
    write_json(path, {"b": [1, 2.5], "a": None}, "calibration")
    assert read_json(path, "calibration") == {"a": None, "b": [1, 2.5]}
    assert path.read_text().startswith('{\n  "a": null')  # indented, sorted keys
    assert [p.name for p in path.parent.iterdir()] == ["out.json"]  # no temporary left
    (tmp_path / "plain").write_text("x")
    with pytest.raises(InvalidInputError, match=r"cannot write calibration file .*plain"):
        write_json(tmp_path / "plain" / "out.json", {}, "calibration")


def test_curve_files(tmp_path: Path) -> None:
    assert task_name("llama_multitask_data_5_2_full_result_v2.json") == "multitask_data_5_2"
    assert task_name("/x/my_task.json") == "my_task"
    (tmp_path / "human.json").write_text('{"t": 0.9, "u": {"score": null}}')
    assert load_human_eval(tmp_path / "human.json") == {"t": 0.9, "u": None}
    with pytest.raises(NotFoundError, match=r"missing\.json"):
        file_auc(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        file_auc(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(InvalidInputError, match="must hold an object"):
        file_auc(tmp_path / "list.json")
    (tmp_path / "t.json").write_text('{"0": {"accuracy": 0.1}}')
    with pytest.raises(InvalidInputError, match=r"t\.json: curve has 1 usable"):
        file_auc(tmp_path / "t.json")


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


def test_save_calibration_keeps_a_bad_file_intact(tmp_path: Path) -> None:
    path = tmp_path / "cal.json"
    path.write_text('{"calibrations": {"m": 3}}')
    with pytest.raises(ConfigError, match=r"calibration file .*cal\.json: calibration 'm'"):
        save_calibration(path, Calibration("x", 0.5, 0.3, 0.0, 0.0, 0.1, "fit"))
    assert path.read_text() == '{"calibrations": {"m": 3}}'


def test_saved_calibration_file_holds_no_source_or_empty_fields(tmp_path: Path) -> None:
    path = tmp_path / "cal.json"
    save_calibration(path, Calibration("x", 0.5, 0.3, 0.0, 0.0, 0.1, "fit"))
    assert json.loads(path.read_text()) == {"calibrations": {"x": {
        "slope": 0.5, "intercept": 0.3, "slope_se": 0.0, "intercept_se": 0.0,
        "residual_sd": 0.1}}}


def test_load_pairs_csv_line_numbers_count_file_lines(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    path.write_text('task,coslow,auc\r\n"a, b",0.1,0.2\r\n\r\nc,0.3,oops\r\n')
    with pytest.raises(InvalidInputError, match=r"pairs\.csv line 4: auc must be a number"):
        load_pairs(path)
    path.write_text('task,coslow,auc\r\n"a, b",0.1,0.2\r\n\r\nc,0.3,0.4\r\n')
    assert load_pairs(path) == [CalibrationPair("a, b", 0.1, 0.2),
                                CalibrationPair("c", 0.3, 0.4)]


def test_write_jsonl_is_atomic_and_names_a_non_finite_row(tmp_path: Path) -> None:
    out = tmp_path / "conf.jsonl"
    write_jsonl(out, [{"key": "a", "confidence": 0.5}, {"key": "b", "confidence": 0.25}], "conf")
    assert out.read_text() == '{"key": "a", "confidence": 0.5}\n{"key": "b", "confidence": 0.25}\n'
    with pytest.raises(InvalidInputError, match=r"conf file .*conf\.jsonl: row 1 \(key 'b'\)"):
        write_jsonl(out, [{"key": "a", "confidence": 0.5}, {"key": "b", "confidence": math.nan}],
                    "conf")
    assert out.read_text().count("\n") == 2                 # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["conf.jsonl"]
