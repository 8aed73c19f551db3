"""`dataeff auc | budget | calibrate | models` driven in-process, plus one real console run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dataeff.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse usage errors
        code = int(stop.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    code, out, err = run(argv, capsys)
    assert (code, err) == (0, ""), err
    return [json.loads(line) for line in out.splitlines()]


def test_auc_one_object_per_file(reference_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    curves = reference_dir / "finetune_results"
    files = [str(curves / "llama_circa_full_result_v2.json"),
             str(curves / "qwen_overruling_full_result_v2.json")]
    records = run_json(["auc", *files, "--human-eval", str(reference_dir / "human_eval.json")],
                       capsys)
    assert [r["file"] for r in records] == files
    assert round(float(records[0]["auc"]), 6) == 0.671275  # type: ignore[arg-type]
    assert records[0]["ceiling"] == 0.923
    assert records[1]["points"][0] == [50, pytest.approx(0.4593, abs=1e-4), 0.0]  # type: ignore[index]
    assert {"file", "task", "auc", "points", "max_acc", "min_acc", "ceiling"} <= set(records[0])


def test_auc_ceiling_option_and_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    curve = tmp_path / "curve.json"
    curve.write_text(json.dumps({"0": {"accuracy": 0.2}, "5000": {"accuracy": 0.6}}))
    record = run_json(["auc", str(curve), "--ceiling", "1.0"], capsys)[0]
    assert record["ceiling"] == 1.0 and record["task"] == "curve"
    assert run_json(["auc", str(curve)], capsys)[0]["ceiling"] == 0.6
    code, out, _ = run(["auc", str(curve), "--format", "table"], capsys)
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == ["file", "task", "auc", "max_acc", "min_acc", "ceiling"]
    assert "curve" in row


def test_budget_worked_example(capsys: pytest.CaptureFixture[str]) -> None:
    record = run_json(["budget", "--coslow", "0.65", "--coefficients", "0.54,0.31",
                       "--target", "0.9"], capsys)[0]
    assert {"auc", "p", "examples_needed", "interval", "remaining", "verdict",
            "message"} <= set(record)
    assert abs(float(record["examples_needed"]) - 1028) <= 1  # type: ignore[arg-type]
    low, high = record["interval"]  # type: ignore[misc]
    assert low < record["examples_needed"] < high
    assert record["verdict"] == "keep_labeling" and record["remaining"] == 1029
    assert record["calibration"]["source"] == "cli"  # type: ignore[index]


def test_budget_with_a_model_alias_and_annotated(capsys: pytest.CaptureFixture[str]) -> None:
    record = run_json(["budget", "--coslow", "0.5", "--model", "Qwen", "--annotated", "5000"],
                      capsys)[0]
    assert record["calibration"]["name"] == "Qwen/Qwen2.5-14B-Instruct"  # type: ignore[index]
    assert record["verdict"] == "target_reached" and record["remaining"] == 0


def test_budget_from_auc_with_range(capsys: pytest.CaptureFixture[str]) -> None:
    record = run_json(["budget", "--auc", "0.6", "--auc-range", "0.5,0.7", "--annotated", "100",
                       "--min-gain", "0.005"], capsys)[0]
    assert record["auc_interval"] == [0.5, 0.7]
    assert record["calibration"] is None and record["coslow"] is None
    assert "range" in str(record["message"])


def test_budget_table_is_field_value_rows(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["budget", "--auc", "0.5", "--format", "table"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["field", "value"]
    assert any(line.startswith("examples_needed") for line in lines)
    assert any(line.startswith("verdict") and "keep_labeling" in line for line in lines)


def test_calibrate_save_and_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pairs = tmp_path / "pairs.csv"
    rows = [(f"t{i}", 0.1 + 0.05 * i, 0.3 + 0.03 * i + (0.01 if i % 2 else -0.01))
            for i in range(10)]
    pairs.write_text("task,coslow,auc\n" + "".join(f"{t},{c},{a}\n" for t, c, a in rows))
    saved = tmp_path / "cal.json"
    record = run_json(["calibrate", str(pairs), "--name", "my-model", "--save", str(saved)],
                      capsys)[0]
    assert record["slope"] == pytest.approx(0.6, abs=0.05)
    assert record["n_tasks"] == 10 and len(record["held_out"]) == 10  # type: ignore[arg-type]
    assert record["loo_mae"] < record["baseline_mae"]  # type: ignore[operator]
    models = run_json(["models", "--calibrations", str(saved)], capsys)
    assert [m["name"] for m in models][-2:] == ["my-model", "fallback"]
    budget = run_json(["budget", "--coslow", "0.3", "--model", "MY-MODEL", "--calibrations",
                       str(saved)], capsys)[0]
    assert budget["calibration"]["slope"] == record["slope"]  # type: ignore[index]
    code, out, _ = run(["calibrate", str(pairs), "--format", "table"], capsys)
    assert code == 0 and "loo_mae" in out and "t9" in out


def test_models_lists_published_and_fallback(capsys: pytest.CaptureFixture[str]) -> None:
    models = run_json(["models"], capsys)
    assert [m["name"] for m in models] == [
        "meta-llama/Llama-3.1-8B-Instruct", "mistralai/Mistral-7B-Instruct-v0.3",
        "Qwen/Qwen2.5-14B-Instruct", "fallback",
    ]
    code, out, _ = run(["models", "--format", "table"], capsys)
    assert code == 0 and "llama-3.1-8b-instruct,llama" in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["auc", "missing.json"], "curve file not found: missing.json"),
        (["auc", "{bad}"], "not valid JSON"),
        (["auc", "{curve}", "--max-budget", "10"], "max_budget must be at least 50"),
        (["budget", "--auc", "1.2"], "auc must lie strictly between 0 and 1, got 1.2"),
        (["budget", "--auc", "0"], "auc must lie strictly between 0 and 1"),
        (["budget", "--auc", "nan"], "auc must be finite"),
        (["budget", "--auc", "0.5", "--target", "1.5"], "target must lie in (0, 1], got 1.5"),
        (["budget", "--auc", "0.5", "--target", "0"], "target must lie in (0, 1]"),
        (["budget", "--auc", "0.5", "--annotated", "-3"], "annotated must be an integer >= 0"),
        (["budget", "--auc", "0.5", "--gain-step", "-1"], "gain_step must be an integer >= 1"),
        (["budget", "--auc", "0.5", "--min-gain", "-0.5"], "min_gain must lie in"),
        (["budget", "--coslow", "0.5", "--model", "gpt-2"], "no calibration for model 'gpt-2'"),
        (["budget", "--coslow", "0.5"], "--coslow needs --model NAME or --coefficients"),
        (["budget", "--coslow", "0.5", "--coefficients", "0.5"], "--coefficients must be two"),
        (["budget", "--coslow", "1.5", "--model", "llama"], "coslow must lie in [-1, 1]"),
        (["budget", "--auc", "0.5", "--model", "llama"], "--auc takes no --model"),
        (["budget", "--coslow", "0.5", "--coefficients", "0.5,0.3", "--calibrations", "x.json"],
         "--calibrations goes with --model"),
        (["budget", "--coslow", "0.5", "--model", "llama", "--residual-sd", "0.1"],
         "--residual-sd goes with --coefficients"),
        (["budget", "--auc", "0.5", "--auc-range", "0.7,0.6"], "interval low 0.7 exceeds"),
        (["budget", "--auc", "0.5", "--coslow", "0.3"], "not allowed with argument"),
        (["budget", "--auc", "x"], "invalid float value"),
        (["budget", "--target", "0.9"], "one of the arguments --auc --coslow is required"),
        (["calibrate", "missing.csv"], "pairs file not found"),
        (["calibrate", "{pairs}"], "at least 3 tasks, got 1"),
        (["models", "--calibrations", "{bad}"], "not valid JSON"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    (tmp_path / "bad.json").write_text("{nope")
    (tmp_path / "curve.json").write_text('{"0": {"accuracy": 0.1}, "50": {"accuracy": 0.5}}')
    (tmp_path / "pairs.csv").write_text("task,coslow,auc\na,0.1,0.2\n")
    paths = {"{bad}": "bad.json", "{curve}": "curve.json", "{pairs}": "pairs.csv"}
    argv = [str(tmp_path / paths[a]) if a in paths else a for a in argv]
    code, out, err = run(argv, capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0] and "Traceback" not in err
    assert fragment in lines[0]


def test_console_script_runs() -> None:
    script = Path(sys.executable).with_name("dataeff")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "backend")}
    done = subprocess.run(
        [str(script), "budget", "--coslow", "0.65", "--coefficients", "0.54,0.31"],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert abs(json.loads(done.stdout)["examples_needed"] - 1028) <= 1
    failed = subprocess.run(
        [str(script), "budget", "--auc", "1.5"], capture_output=True, text=True, timeout=60,
        env=env, check=False,
    )
    assert failed.returncode == 2 and failed.stdout == ""
    assert failed.stderr.strip() == (
        "dataeff: error: auc must lie strictly between 0 and 1, got 1.5"
    )
