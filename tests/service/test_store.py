"""The SQLite store: migrations match the schema, idempotent events, WAL."""

from __future__ import annotations

import random
import sqlite3
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from dataeff.errors import UnavailableError
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
    assert store.inbox is not None and store.inbox.pending() == {1: 1, 2: 1}
    assert store.pending() == {1: 1, 2: 1} and store.has_pending(2)
    assert store.drain_inbox() == 2 and store.inbox.pending() == {}
    assert store.pending() == {1: 1, 2: 1} and store.has_pending(2)     # now in events
    assert store.insert_event(1, "A", "k1", "{}") is False     # moved, still a duplicate
    with store.write() as conn:
        assert events.pending_project_ids(conn) == [1, 2]
        (row,) = events.pending_events(conn, 1)
        events.mark_processed(conn, row.id)
        assert events.pending_project_ids(conn) == [2]
        assert events.count_events(conn) == {"total": 2, "pending": 1}
        assert events.prune_processed(conn, older_than=1e12) == 1
    assert store.pending() == {2: 1} and not store.has_pending(1)
    assert store.insert_event(3, "C", "k3", "{}")
    store.drain_inbox()
    with store.write() as conn:
        (row,) = events.pending_events(conn, 3)
        events.mark_processed(conn, row.id)
    assert store.prune_events(older_than=1e12) == 1       # the first prune of this process
    assert store.insert_event(3, "C", "k3", "{}") is True  # its key is forgotten: new again
    store.drain_inbox()
    with store.write() as conn:
        (row,) = events.pending_events(conn, 3)
        events.mark_processed(conn, row.id)
    assert store.prune_events(older_than=1e12) == 0       # the next one waits for the hour
    with store.read() as conn:
        assert events.count_events(conn, 3) == {"total": 1, "pending": 0}
    store.dispose()


def test_the_inbox_survives_a_restart_and_a_repeated_move(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.sqlite3"
    store = Store(url)
    store.migrate()
    assert store.inbox is not None and store.inbox.path.name == "s.sqlite3.inbox-v1.sqlite3"
    for i in range(3):
        assert store.insert_event(7, "A", f"k{i}", f'{{"n": {i}}}')
    store.dispose()                            # acknowledged, not yet moved: a process exit
    store = Store(url)
    assert store.inbox is not None and store.inbox.pending() == {7: 3}
    rows = store.inbox.take(10)
    with store.write() as conn:                # a crash after copying, before deleting ...
        events.insert_moved(conn, rows[:2])
    assert store.drain_inbox() == 3            # ... moves each event once, in arrival order
    with store.read() as conn:
        assert [r.payload for r in events.pending_events(conn, 7)] == [
            '{"n": 0}', '{"n": 1}', '{"n": 2}']
    assert store.drain_inbox() == 0
    store.dispose()


def test_concurrent_webhooks_share_commits_and_each_key_is_stored_once(tmp_path: Path) -> None:
    """Group commit: 8 threads deliver the same 60 events; each is acknowledged as new exactly
    once, whichever thread's commit carried it."""
    store = Store(f"sqlite:///{tmp_path}/s.sqlite3")
    store.migrate()
    firsts: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def deliver(seed: int) -> None:
        start.wait()
        for i in random.Random(seed).sample(range(60), 60):
            if store.insert_event(i % 3, "A", f"k{i}", "{}"):
                with lock:
                    firsts.append(f"k{i}")

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(firsts) == sorted(f"k{i}" for i in range(60))
    assert store.pending() == {0: 20, 1: 20, 2: 20}
    store.dispose()


def test_an_inbox_that_cannot_be_written_says_so(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.sqlite3")
    assert store.inbox is not None

    class Locked:
        def execute(self, *_: object) -> None:
            raise sqlite3.OperationalError("database is locked")

    store.inbox._local.conn = Locked()
    with pytest.raises(UnavailableError, match=r"webhook inbox .*s.sqlite3.inbox-v1.sqlite3: "
                                               r"OperationalError: database is locked"):
        store.insert_event(1, "A", "k", "{}")
    store.dispose()


def test_an_in_memory_store_has_no_inbox(tmp_path: Path) -> None:
    store = Store("sqlite://")
    assert store.inbox is None and store.drain_inbox() == 0
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
