"""The store: the one place that holds dataeff's SQL (SQLAlchemy 2.x Core).

:class:`Store` owns the engine and hands out short transactions; the modules beside it hold
the statements (``events``, ``projects``, ``pool``, ``leases``) as functions of a connection,
so a job can apply many changes in one transaction. Schema: ``schema.py``; migrations: Alembic
(``service/migrations``), run by :meth:`Store.migrate`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url

from dataeff.service.store import events, leases, pool, projects
from dataeff.service.store.engine import make_engine, migrate, write_transaction
from dataeff.service.store.events import EventRow
from dataeff.service.store.fairlock import FairLock
from dataeff.service.store.inbox import Inbox, inbox_path
from dataeff.service.store.pool import TaskRow
from dataeff.service.store.projects import EstimateRow, ProjectRow

PRUNE_EVERY_S = 3600.0

__all__ = ["EstimateRow", "EventRow", "ProjectRow", "Store", "TaskRow", "events", "leases",
           "pool", "projects"]


class Store:
    """Engine + transactions; see the modules ``events``, ``projects`` and ``pool``."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "NORMAL") -> None:
        self.engine: Engine = make_engine(url, sqlite_synchronous=sqlite_synchronous)
        # SQLite has one writer at a time and its busy handler *sleeps* (backing off to
        # 100 ms) while it waits, so contending threads starve for seconds. Queue this
        # process's writers on a FIFO lock instead: the next waiter gets it at each commit.
        self._write_lock = FairLock() if self.dialect == "sqlite" else None
        # ... and keep webhooks off this lock altogether: they go to an inbox file (inbox.py)
        database = make_url(url).database if self.dialect == "sqlite" else None
        self._next_prune = 0.0                   # monotonic time of the next prune_events
        self.inbox = (Inbox(inbox_path(Path(database)), synchronous=sqlite_synchronous)
                      if database and database != ":memory:" else None)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        migrate(self.engine)

    def dispose(self) -> None:
        if self.inbox is not None:
            self.inbox.close()
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; keep it short (the webhook path waits on the same lock)."""
        if self._write_lock is None:
            with write_transaction(self.engine) as conn:
                yield conn
            return
        with self._write_lock, write_transaction(self.engine) as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    # --- the two hot paths, as single calls ------------------------------------------------
    def insert_event(self, project_id: int, action: str, delivery_key: str,
                     payload: str) -> bool:
        """The webhook path: one INSERT; ``False`` for a duplicate delivery."""
        if self.inbox is None:
            with self.write() as conn:
                return events.insert_event(conn, project_id, action, delivery_key, payload)
        return self.inbox.put(project_id, action, delivery_key, payload)

    def drain_inbox(self, chunk: int = 200) -> int:
        """Move the inbox's events into ``events`` (oldest first); returns how many moved.
        Whoever reads pending events calls this first; a no-op for PostgreSQL."""
        if self.inbox is None:
            return 0
        moved = 0
        while rows := self.inbox.take(chunk):
            with self.write() as conn:
                events.insert_moved(conn, rows)
            self.inbox.mark_moved([r.id for r in rows])
            moved += len(rows)
        return moved

    def prune_events(self, older_than: float) -> int:
        """Forget events processed (and inbox keys moved) before ``older_than`` (Unix s);
        a redelivery older than that is taken as new. Both deletes scan their table and take
        the write locks webhooks and jobs wait on, so a process does this once per
        :data:`PRUNE_EVERY_S` (retention is days); other calls return 0 at once."""
        now = time.monotonic()
        if now < self._next_prune:
            return 0
        self._next_prune = now + PRUNE_EVERY_S
        if self.inbox is not None:
            self.inbox.prune(older_than)
        with self.write() as conn:
            return events.prune_processed(conn, older_than)

    def has_pending(self, project_id: int) -> bool:
        """Events of the project not yet applied, in the inbox or the ``events`` table."""
        if self.inbox is not None and self.inbox.has_pending(project_id):
            return True
        with self.read() as conn:
            return events.has_pending(conn, project_id)

    def pending(self) -> dict[int, int]:
        """``{project_id: events not yet applied}``, the inbox's included."""
        counts = {} if self.inbox is None else self.inbox.pending()
        with self.read() as conn:
            for pid, n in events.pending_counts(conn).items():
                counts[pid] = counts.get(pid, 0) + n
        return counts

    def get_project(self, project_id: int) -> ProjectRow | None:
        with self.read() as conn:
            return projects.get_project(conn, project_id)
