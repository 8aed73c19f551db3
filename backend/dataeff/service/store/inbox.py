"""The webhook inbox of a SQLite store: acknowledgements written to a file of their own.

SQLite has one writer per database file. On the main file a webhook's INSERT waits behind
whatever write transaction a job holds, and with Label Studio waiting inside the annotator's
submit that showed: p99 about 1 s while a job ran (``bench/webhook.py``). So with SQLite a
webhook is written here instead and moved into the ``events`` table by whoever reads events
next (:meth:`dataeff.service.store.Store.drain_inbox`: the job, start-up recovery, the
sweeper). Only webhooks and that short move write this file, and webhooks arriving together
share one commit (group commit: the first waiter writes every queued event).

The delivery key is unique here, so this file alone answers "duplicate?": a moved row keeps
its key (its payload emptied) until it is pruned with the processed events. Moving is
idempotent (the key is unique in ``events`` too), so a crash between copying rows and marking
them moves nothing twice. Its one table is created on open; a changed layout gets a new file
name, not a migration. PostgreSQL stores need none of this: their writers do not queue on one
lock.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from dataeff.errors import UnavailableError
from dataeff.service.store.fairlock import FairLock

INBOX_SUFFIX = ".inbox-v1.sqlite3"
_SCHEMA = """CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    delivery_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    received_at REAL NOT NULL,
    moved_at REAL)"""
_INDEX = "CREATE INDEX IF NOT EXISTS inbox_waiting ON inbox (moved_at, id)"
_INSERT = ("INSERT OR IGNORE INTO inbox (project_id, action, delivery_key, payload, received_at)"
           " VALUES (?, ?, ?, ?, ?)")


@dataclass(frozen=True)
class InboxRow:
    id: int
    project_id: int
    action: str
    delivery_key: str
    payload: str
    received_at: float


@dataclass
class _Put:
    row: tuple[int, str, str, str, float]
    stored: bool | None = None          # set by whichever thread commits it
    error: BaseException | None = None


def inbox_path(database: Path) -> Path:
    """The inbox file beside the main SQLite file ``database``."""
    return database.with_name(database.name + INBOX_SUFFIX)


class Inbox:
    """One SQLite file, one connection per thread, writers in arrival order."""

    def __init__(self, path: Path, *, synchronous: str = "NORMAL") -> None:
        self.path = path
        self._synchronous = synchronous
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._write_lock = FairLock()
        self._queued: list[_Put] = []
        self._queued_lock = threading.Lock()
        with self._write_lock:
            self._conn().execute(_SCHEMA)
            self._conn().execute(_INDEX)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    def put(self, project_id: int, action: str, delivery_key: str, payload: str) -> bool:
        """Store one event durably; ``False`` when its key is here already (a redelivery)."""
        mine = _Put((project_id, action, delivery_key, payload, time.time()))
        with self._queued_lock:
            self._queued.append(mine)
        with self._write_lock:
            if mine.stored is None and mine.error is None:      # nobody committed it yet
                with self._queued_lock:
                    batch, self._queued = self._queued, []
                self._commit(batch)
        if mine.error is not None:
            raise UnavailableError(f"webhook inbox {self.path}: {type(mine.error).__name__}: "
                                   f"{mine.error}") from mine.error
        return bool(mine.stored)

    def _commit(self, batch: list[_Put]) -> None:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                results = [conn.execute(_INSERT, put.row).rowcount == 1 for put in batch]
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as error:
            for put in batch:
                put.error = error
            return
        for put, stored in zip(batch, results, strict=True):
            put.stored = stored

    def take(self, limit: int) -> list[InboxRow]:
        """The oldest ``limit`` events not yet moved (left waiting until :meth:`mark_moved`)."""
        rows = self._conn().execute(
            "SELECT id, project_id, action, delivery_key, payload, received_at FROM inbox "
            "WHERE moved_at IS NULL ORDER BY id LIMIT ?", (limit,)).fetchall()
        return [InboxRow(*row) for row in rows]

    def mark_moved(self, ids: list[int]) -> None:
        """Keep the moved events' keys (for duplicates), drop their payloads."""
        now = time.time()
        self._write("UPDATE inbox SET moved_at = ?, payload = '' WHERE id = ?",
                    [(now, i) for i in ids])

    def prune(self, moved_before: float) -> None:
        """Forget the keys of events moved before ``moved_before`` (Unix s)."""
        self._write("DELETE FROM inbox WHERE moved_at < ?", [(moved_before,)])

    def _write(self, sql: str, params: list[tuple[object, ...]]) -> None:
        if not params:
            return
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(sql, params)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def has_pending(self, project_id: int) -> bool:
        row = self._conn().execute(
            "SELECT 1 FROM inbox WHERE moved_at IS NULL AND project_id = ? LIMIT 1",
            (project_id,)).fetchone()
        return row is not None

    def pending(self) -> dict[int, int]:
        """``{project_id: events waiting to be moved}``."""
        rows = self._conn().execute(
            "SELECT project_id, COUNT(*) FROM inbox WHERE moved_at IS NULL "
            "GROUP BY project_id").fetchall()
        return {int(pid): int(n) for pid, n in rows}

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
