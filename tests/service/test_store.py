"""The SQLite store: migrations match the schema, idempotent events, WAL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from dataeff.labelstudio.records import AnnotationRecord, TaskRecord
from dataeff.service.store import Store, events, pool, projects
from dataeff.service.store.engine import current_revision, head_revision
from dataeff.service.store.schema import metadata


def test_migrated_database_matches_the_schema(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.sqlite3")
    assert current_revision(store.engine) is None
    store.migrate()
    store.migrate()                                   # idempotent
    assert current_revision(store.engine) == head_revision()
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.dispose()


def test_events_are_idempotent_and_pending_until_marked(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.sqlite3")
    store.migrate()
    assert store.insert_event(1, "A", "k1", "{}") is True
    assert store.insert_event(1, "A", "k1", "{}") is False
    assert store.insert_event(2, "B", "k2", "{}") is True
    with store.write() as conn:
        assert events.pending_project_ids(conn) == [1, 2]
        (row,) = events.pending_events(conn, 1)
        events.mark_processed(conn, row.id)
        assert events.pending_project_ids(conn) == [2]
        assert events.count_events(conn) == {"total": 2, "pending": 1}
        assert events.prune_processed(conn, older_than=1e12) == 1
    store.dispose()


def test_pool_upserts_reset_scores_on_changed_data(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.sqlite3")
    store.migrate()
    with store.write() as conn:
        projects.ensure_project(conn, 1)
        pool.upsert_tasks(conn, 1, [TaskRecord(1, {"text": "a"}), TaskRecord(2, {"text": "b"})])
        pool.save_scores(conn, 1, "key", {1: 0.3, 2: 0.6}, {})
        assert pool.upsert_tasks(conn, 1, [TaskRecord(1, {"text": "a"})]) == 0
        assert pool.upsert_tasks(conn, 1, [TaskRecord(2, {"text": "B"})]) == 1
        pool.upsert_annotations(conn, 1, [AnnotationRecord(5, 1, [], False, "t")])
        pool.delete_tasks(conn, 1, [1])
    with store.read() as conn:
        assert pool.confidences(conn, 1, [1, 2]) == {}
        assert [t.task_id for t in pool.load_tasks(conn, 1)] == [2]
        assert pool.load_annotations(conn, 1) == []
    store.dispose()
