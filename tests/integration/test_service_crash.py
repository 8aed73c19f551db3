"""Crash recovery: events accepted, `dataeff serve` killed (-9) before its job ran, restart
-> every event processed, and the estimate equals one computed from scratch."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))

from lsdata import XML, annotation, annotation_event, task_text
from service_process import ServiceProcess

from dataeff.estimator.fake import FakeScorer
from dataeff.service.app import create_app
from dataeff.settings import Settings

pytestmark = pytest.mark.integration
PARAMS = {"min_examples": 4, "low_confidence_fraction": 0.25}
ENV = {"DATAEFF_SCORER_FACTORY": "fakes:make_scorer", "DATAEFF_COALESCE_S": "0.1"}


def _events() -> list[dict[str, Any]]:
    tasks = [{"id": t, "project": 1, "data": {"text": task_text(t)}} for t in range(1, 41)]
    out: list[dict[str, Any]] = [{"action": "TASKS_CREATED", "tasks": tasks,
                                  "project": {"id": 1, "label_config": XML}}]
    for i in range(12):
        out.append(annotation_event(annotation(100 + i, 1 + 3 * i, ["yes", "no"][i % 2],
                                               stamp=i)))
    out.append(annotation_event(annotation(100, 1, "maybe", stamp=59), "ANNOTATION_UPDATED"))
    out.append({"action": "ANNOTATIONS_DELETED", "annotations": [{"id": 101}],
                "project": {"id": 1}})
    return out


def _from_scratch(tmp_path: Path) -> dict[str, Any]:
    settings = Settings.load(env={}, overrides={"data_dir": str(tmp_path / "scratch"),
                                                "queue": "inline"})
    app = create_app(settings, scorer_factory=lambda *a, **k: FakeScorer(),
                     gateway_factory=lambda s: None)
    client = app.test_client()
    client.post("/setup", json={"project": "1.1", "schema": XML, "extra_params": PARAMS})
    for body in _events():
        assert client.post("/webhook", json=body).status_code == 202
    app.extensions["dataeff"].wait_idle()
    result = client.get("/api/projects/1/estimate").json
    app.extensions["dataeff"].stop()
    assert result is not None
    return result


def test_events_survive_kill_9_and_give_the_from_scratch_estimate(tmp_path: Path) -> None:
    data = tmp_path / "live"
    data.mkdir()
    first = ServiceProcess(data, {**ENV, "DATAEFF_RUNNER_START_DELAY_S": "600"}).start()
    try:
        status, _ = first.post("/setup", {"project": "1.1", "schema": XML,
                                          "extra_params": PARAMS})
        assert status == 200
        for body in _events():
            status, answer = first.post("/webhook", body)
            assert status == 202, answer
        queued = first.get("/api/projects/1/estimate")
        assert queued["state"] == "queued" and queued["estimate_id"] is None
    finally:
        first.kill()
    second = ServiceProcess(data, ENV).start()
    try:
        live = second.wait_estimate(1, lambda b: b["state"] == "idle" and b["estimate_id"])
        metrics = second.get_text("/metrics")
        assert "dataeff_events_pending 0" in metrics
        assert 'dataeff_jobs_total{outcome="ok"}' in metrics
    finally:
        assert second.stop() == 0
    scratch = _from_scratch(tmp_path)
    assert live["counts"]["annotated"] == 11
    for key in ("counts", "coslow", "coslow_interval", "examples_needed",
                "examples_needed_interval", "verdict", "message", "curve"):
        assert live[key] == scratch[key], key
