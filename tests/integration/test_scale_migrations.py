"""Upgrading a populated store keeps its data, on SQLite and on the real PostgreSQL: a database
migrated to revision 0001 (before the leases) and holding projects, tasks, annotations,
sketches, events and estimates is upgraded by `dataeff db upgrade`; every row is unchanged,
the schema equals the code's, and a second upgrade is a no-op. A missing PostgreSQL fails."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from scale_cluster import ServiceMissing, pg_schema
from sqlalchemy import Engine, select

from dataeff.cli import main
from dataeff.labelstudio.records import AnnotationRecord, TaskRecord
from dataeff.service.store import Store, events, leases, pool, projects
from dataeff.service.store.engine import current_revision, head_revision, migrate
from dataeff.service.store.schema import metadata

pytestmark = pytest.mark.integration
V1_TABLES = ("projects", "tasks", "annotations", "sketches", "events", "estimates")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/store.sqlite3"
        return
    try:
        with pg_schema() as url:
            yield url
    except ServiceMissing as error:
        pytest.fail(str(error))


def _populate(store: Store) -> None:
    """Rows in every table of revision 0001, through the store's own functions."""
    with store.write() as conn:
        projects.ensure_project(conn, 3)
        projects.set_fields(conn, 3, label_config="<View/>", config_hash="h" * 32,
                            params={"target": 0.8})
        pool.upsert_tasks(conn, 3, [TaskRecord(t, {"text": f"q{t}"})
                                    for t in (1, 2)])
        pool.save_scores(conn, 3, "key", {1: 0.25, 2: None}, {2: "no text"})
        pool.upsert_annotations(conn, 3, [AnnotationRecord(9, 1, [{"value": 1}], False,
                                                           "2026-11-29T10:00:00Z")])
        pool.save_sketches(conn, 3, "key", {(1, "a" * 32): np.arange(4, dtype=np.float32)})
        projects.insert_estimate(conn, 3, {"verdict": "collecting",
                                           "counts": {"annotated": 1}})
    assert store.insert_event(3, "ANNOTATION_CREATED", "d1", json.dumps({"x": 1}))
    assert store.insert_event(3, "SETUP", "d2", "{}")
    store.drain_inbox()                        # SQLite: from the webhook inbox to events
    with store.write() as conn:
        events.mark_processed(conn, 1)


def _snapshot(engine: Engine) -> dict[str, list[Any]]:
    with engine.connect() as conn:
        return {name: sorted(tuple(r) for r in conn.execute(select(metadata.tables[name])))
                for name in V1_TABLES}


def _upgrade(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
             url: str) -> dict[str, Any]:
    monkeypatch.setenv("DATAEFF_DB_URL", url)
    monkeypatch.delenv("DATAEFF_CONFIG", raising=False)
    assert main(["db", "upgrade"]) == 0
    rows: list[dict[str, Any]] | dict[str, Any] = json.loads(capsys.readouterr().out)
    return rows[0] if isinstance(rows, list) else rows


def test_db_upgrade_from_0001_keeps_every_row_and_is_idempotent(
        db_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    store = Store(db_url)
    migrate(store.engine, "0001")
    _populate(store)
    before = _snapshot(store.engine)
    assert [len(before[t]) for t in V1_TABLES] == [1, 2, 1, 1, 2, 1]
    store.dispose()

    first = _upgrade(monkeypatch, capsys, db_url)
    assert (first["from_revision"], first["revision"], first["changed"]) == (
        "0001", head_revision(), True)
    second = _upgrade(monkeypatch, capsys, db_url)
    assert (second["from_revision"], second["changed"]) == (head_revision(), False)

    store = Store(db_url)
    try:
        assert _snapshot(store.engine) == before
        assert current_revision(store.engine) == head_revision()
        with store.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        with store.write() as conn:                      # the new table works on old data
            assert leases.needing_jobs(conn, 1e12) == [3]   # event d2 is still pending
            assert leases.acquire(conn, 3, "w", 30.0)
            assert leases.needing_jobs(conn, 1e12) == []
        with store.read() as conn:
            assert [e.action for e in events.pending_events(conn, 3)] == ["SETUP"]
    finally:
        store.dispose()
