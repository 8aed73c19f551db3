"""`dataeff confidence | select | coslow | estimate | model` end to end on the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataeff.cli import main
from dataeff.estimator.spec import Example, TaskSpec


@pytest.fixture
def files(tmp_path: Path, spec: TaskSpec, labeled: list[Example]) -> dict[str, Path]:
    task = tmp_path / "task.json"
    task.write_text(json.dumps(spec.to_dict()))
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps({"inputs": dict(e.inputs), "key": e.key}) + "\n"
                            for e in labeled))
    annotated = tmp_path / "annotated.jsonl"
    annotated.write_text("".join(json.dumps({"inputs": dict(e.inputs), "answer": e.answer,
                                             "key": e.key}) + "\n" for e in labeled))
    return {"task": task, "pool": pool, "annotated": annotated, "dir": tmp_path}


def _json(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    record: dict[str, object] = json.loads(out[0])
    return record


def test_confidence_then_select(files: dict[str, Path], tiny_model_dir: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    out = files["dir"] / "conf.jsonl"
    assert main(["confidence", "--task", str(files["task"]), "--pool", str(files["pool"]),
                 "--out", str(out), "--model", str(tiny_model_dir), "--device", "cpu",
                 "--max-new-tokens", "5"]) == 0
    summary = _json(capsys)
    assert summary["n_examples"] == 8 and summary["model"] == tiny_model_dir.name
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["key"] for r in rows] == [f"ex{i}" for i in range(8)]
    assert all(0 < r["confidence"] <= 1 for r in rows)
    assert main(["select", "--confidence", str(out), "--k", "3", "--seed", "4"]) == 0
    selection = _json(capsys)
    assert selection["k"] == 3 and selection["extended"] is True
    lowest = sorted(rows, key=lambda r: (r["confidence"], r["key"]))[:3]
    assert set(selection["selected"]) == {r["key"] for r in lowest}  # type: ignore[arg-type]


def test_coslow_and_estimate(files: dict[str, Path], tiny_model_dir: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--task", str(files["task"]), "--examples", str(files["annotated"]),
              "--model", str(tiny_model_dir), "--device", "cpu", "--bootstrap", "200"]
    assert main(["coslow", *common]) == 0
    record = _json(capsys)
    assert set(record) >= {"coslow", "interval", "n_examples", "n_pairs", "seconds"}
    assert (record["n_examples"], record["n_pairs"]) == (8, 28)
    low, high = record["interval"]  # type: ignore[misc]
    assert -1 <= low <= record["coslow"] <= high <= 1  # type: ignore[operator]
    assert main(["estimate", *common, "--target", "0.9", "--annotated", "40"]) == 0
    estimate = _json(capsys)
    assert estimate["coslow"] == record["coslow"]
    assert estimate["calibration"] is None and estimate["calibration_used"] == "fallback"
    assert estimate["annotated"] == 40 and estimate["verdict"] == "collecting"  # 8 < 32
    assert estimate["examples_needed"] is not None


def test_errors_are_one_line_and_exit_2(files: dict[str, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert main(["confidence", "--task", str(files["task"]), "--pool", str(empty),
                 "--out", str(tmp_path / "c.jsonl")]) == 2
    assert "empty" in capsys.readouterr().err
    assert main(["coslow", "--task", str(files["task"]), "--examples", str(files["pool"]),
                 "--model", "/no/such/model"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no answer" in err  # the file is checked first
    assert main(["coslow", "--task", str(files["task"]), "--examples",
                 str(files["annotated"]), "--model", "/no/such/model"]) == 2
    assert "'/no/such/model': no such directory" in capsys.readouterr().err


def test_model_info_lists_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATAEFF_CACHE_DIR", str(tmp_path))
    assert main(["model", "info"]) == 0
    record = _json(capsys)
    assert record["ready"] is False and record["model"] == "SmolLM2-135M-Instruct"


def test_model_prepare_checks_other_models(tiny_model_dir: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["model", "prepare", "--model", str(tiny_model_dir)]) == 0
    record = _json(capsys)
    assert record["model"] == tiny_model_dir.name and record["path"] == str(tiny_model_dir)
    assert main(["model", "prepare", "--model", "/no/such/dir"]) == 2
    assert "no such directory" in capsys.readouterr().err
