"""Fixtures for the service tests: settings on a temporary SQLite store, the inline queue,
the numpy fake scorer (FakeScorer), an in-memory Label Studio with one 40-task project, the
app and its test client. Test data and helpers live in ``lsdata.py``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from flask import Flask
from flask.testing import FlaskClient
from lsdata import N_TASKS, XML, AppFactory, task_text

from dataeff.estimator.fake import FakeScorer
from dataeff.labelstudio.fake import FakeLabelStudio
from dataeff.service.app import create_app
from dataeff.service.runtime import Runtime
from dataeff.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.load(env={}, overrides={
        "data_dir": str(tmp_path), "queue": "inline", "label_studio_url": "http://ls.test",
        "label_studio_api_key": "k" * 40, "reconcile_interval_s": 0, "status_refresh_tasks": 3})


@pytest.fixture
def scorer() -> FakeScorer:
    return FakeScorer()


@pytest.fixture
def fake_ls() -> FakeLabelStudio:
    ls = FakeLabelStudio()
    ls.add_project(1, XML)
    for task_id in range(1, N_TASKS + 1):
        ls.add_task(1, task_id, {"text": task_text(task_id)})
    return ls


@pytest.fixture
def make_app(scorer: FakeScorer, fake_ls: FakeLabelStudio) -> Iterator[AppFactory]:
    made: list[Flask] = []

    def make(settings: Settings, *, ls: FakeLabelStudio | None = fake_ls,
             score: FakeScorer = scorer) -> Flask:
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
