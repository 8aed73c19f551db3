"""Fixtures for the service tests: settings on a temporary SQLite store, the inline queue,
the numpy fake scorer, an in-memory Label Studio with one 40-task project, the app and its
test client, and the recorded Label Studio payloads in ``payloads/``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import efficiency_stand_in  # noqa: E402

efficiency_stand_in.install()

from fakes import NumpyScorer  # noqa: E402
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402

from dataeff.labelstudio.fake import FakeLabelStudio  # noqa: E402
from dataeff.service.app import create_app  # noqa: E402
from dataeff.service.runtime import Runtime  # noqa: E402
from dataeff.settings import Settings  # noqa: E402

PAYLOADS = HERE / "payloads"
XML = (PAYLOADS / "label_config_choices.xml").read_text()
N_TASKS = 40


def payload(name: str) -> dict[str, Any]:
    """A recorded Label Studio payload (a fresh copy each call)."""
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    return data


def task_text(task_id: int) -> str:
    return f"Question {task_id}? -- answer {task_id}"


def annotation(ann_id: int, task_id: int, choice: str, *, stamp: int = 0,
               cancelled: bool = False) -> dict[str, Any]:
    return {"id": ann_id, "task": task_id, "project": 1, "was_cancelled": cancelled,
            "updated_at": f"2026-11-29T10:{stamp // 60:02d}:{stamp % 60:02d}.000000Z",
            "result": [] if cancelled else [{"from_name": "label", "to_name": "text",
                                             "type": "choices", "value": {"choices": [choice]}}]}


def annotation_event(ann: dict[str, Any], action: str = "ANNOTATION_CREATED") -> dict[str, Any]:
    return {"action": action, "annotation": ann,
            "task": {"id": ann["task"], "project": 1, "data": {"text": task_text(ann["task"])}},
            "project": {"id": 1, "label_config": XML}}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.load(env={}, overrides={
        "data_dir": str(tmp_path), "queue": "inline", "label_studio_url": "http://ls.test",
        "label_studio_api_key": "k" * 40, "reconcile_interval_s": 0, "status_refresh_tasks": 3})


@pytest.fixture
def scorer() -> NumpyScorer:
    return NumpyScorer()


@pytest.fixture
def fake_ls() -> FakeLabelStudio:
    ls = FakeLabelStudio()
    ls.add_project(1, XML)
    for task_id in range(1, N_TASKS + 1):
        ls.add_task(1, task_id, {"text": task_text(task_id)})
    return ls


AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(scorer: NumpyScorer, fake_ls: FakeLabelStudio) -> Iterator[AppFactory]:
    made: list[Flask] = []

    def make(settings: Settings, *, ls: FakeLabelStudio | None = fake_ls,
             score: NumpyScorer = scorer) -> Flask:
        app = create_app(settings, scorer_factory=lambda *a, **k: score,
                         gateway_factory=lambda s: ls)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["dataeff"].stop(5)


@pytest.fixture
def app(make_app: AppFactory, settings: Settings) -> Flask:
    return make_app(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runtime(app: Flask) -> Runtime:
    rt: Runtime = app.extensions["dataeff"]
    return rt


def send(ls: FakeLabelStudio, client: FlaskClient, ann: dict[str, Any],
         action: str = "ANNOTATION_CREATED") -> None:
    """Label in Label Studio and deliver the matching webhook."""
    ls.add_annotation(ann)
    response = client.post("/webhook", json=annotation_event(ann, action))
    assert response.status_code == 202, response.json
