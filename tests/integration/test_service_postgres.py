"""The store on a real PostgreSQL (DATAEFF_TEST_PG_URL, default the local `test` database):
same Alembic migrations, idempotent events, a full job through the app. Each test gets its
own schema (dropped afterwards). A missing server fails with a clear message, never skips."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))

from lsdata import XML, annotation, annotation_event, task_text
from scale_cluster import PG_URL, ServiceMissing, pg_schema

from dataeff.estimator.fake import FakeScorer
from dataeff.service.app import create_app
from dataeff.service.store import Store
from dataeff.service.store.schema import metadata
from dataeff.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_url() -> Iterator[str]:
    try:
        with pg_schema(PG_URL) as url:
            yield url
    except ServiceMissing as error:
        pytest.fail(str(error))


def test_migrations_and_events_on_postgres(pg_url: str) -> None:
    store = Store(pg_url)
    store.migrate()
    store.migrate()
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    assert store.inbox is None                   # PostgreSQL writes events directly
    assert store.insert_event(1, "A", "k", "{}") is True
    assert store.insert_event(1, "A", "k", "{}") is False
    store.dispose()


def test_a_job_runs_on_postgres(pg_url: str, tmp_path: Path) -> None:
    settings = Settings.load(env={}, overrides={"db_url": pg_url, "queue": "inline",
                                                "data_dir": str(tmp_path)})
    app = create_app(settings, scorer_factory=lambda *a, **k: FakeScorer(),
                     gateway_factory=lambda s: None)
    client, runtime = app.test_client(), app.extensions["dataeff"]
    try:
        client.post("/setup", json={"project": "1.1", "schema": XML,
                                    "extra_params": {"min_examples": 2,
                                                     "low_confidence_fraction": 0.5}})
        tasks = [{"id": t, "data": {"text": task_text(t)}} for t in range(1, 21)]
        assert client.post("/webhook", json={"action": "TASKS_CREATED", "tasks": tasks,
                                             "project": {"id": 1}}).status_code == 202
        for i in range(8):
            body = annotation_event(annotation(100 + i, 1 + i, "yes", stamp=i))
            assert client.post("/webhook", json=body).status_code == 202
        runtime.wait_idle()
        estimate = client.get("/api/projects/1/estimate").json
        assert estimate is not None and estimate["counts"]["tasks"] == 20
        assert estimate["counts"]["annotated"] == 8 and estimate["error"] is None
    finally:
        runtime.stop()
