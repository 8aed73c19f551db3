"""The event log: every accepted webhook, written before it is acknowledged.

A row is *pending* until a job has applied it (``processed_at`` set). ``delivery_key`` is
unique, so inserting a redelivered event is a no-op (``INSERT ... ON CONFLICT DO NOTHING``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, bindparam, delete, func, select, update

from dataeff.service.store.inbox import InboxRow
from dataeff.service.store.schema import events
from dataeff.service.store.sql import insert_ignore


@dataclass(frozen=True)
class EventRow:
    id: int
    project_id: int
    action: str
    payload: str


def insert_event(conn: Connection, project_id: int, action: str, delivery_key: str,
                 payload: str) -> bool:
    """Insert one event; ``False`` when an event with this delivery key exists already."""
    stmt = insert_ignore(conn, events, ["delivery_key"]).values(
        project_id=project_id, action=action, delivery_key=delivery_key, payload=payload,
        received_at=time.time()).returning(events.c.id)
    # RETURNING, not rowcount: PostgreSQL reports rowcount -1 for INSERT ... RETURNING
    return conn.execute(stmt).first() is not None


def insert_moved(conn: Connection, rows: Sequence[InboxRow]) -> None:
    """Insert events moved from the inbox, keeping their arrival time; a delivery key that
    is here already (a redelivery, or a move repeated after a crash) is skipped."""
    if rows:
        conn.execute(insert_ignore(conn, events, ["delivery_key"]), [
            {"project_id": r.project_id, "action": r.action, "delivery_key": r.delivery_key,
             "payload": r.payload, "received_at": r.received_at} for r in rows])


def pending_events(conn: Connection, project_id: int) -> list[EventRow]:
    """The project's unprocessed events, oldest first."""
    rows = conn.execute(
        select(events.c.id, events.c.project_id, events.c.action, events.c.payload)
        .where(events.c.project_id == project_id, events.c.processed_at.is_(None))
        .order_by(events.c.id))
    return [EventRow(r.id, r.project_id, r.action, r.payload) for r in rows]


def mark_processed(conn: Connection, event_id: int, error: str | None = None) -> None:
    conn.execute(update(events).where(events.c.id == event_id)
                 .values(processed_at=time.time(), error=error))


def mark_processed_many(conn: Connection, done: list[tuple[int, str | None]]) -> None:
    """Mark many events processed in one statement: ``(event_id, error or None)`` pairs."""
    if done:
        conn.execute(update(events).where(events.c.id == bindparam("event_id"))
                     .values(processed_at=time.time(), error=bindparam("event_error")),
                     [{"event_id": i, "event_error": e} for i, e in done])


def pending_project_ids(conn: Connection) -> list[int]:
    rows = conn.execute(select(events.c.project_id).where(events.c.processed_at.is_(None))
                        .group_by(events.c.project_id).order_by(func.min(events.c.id)))
    return [r.project_id for r in rows]


def pending_counts(conn: Connection) -> dict[int, int]:
    """``{project_id: unprocessed events}``."""
    rows = conn.execute(select(events.c.project_id, func.count()).where(
        events.c.processed_at.is_(None)).group_by(events.c.project_id))
    return {int(pid): int(n) for pid, n in rows}


def has_pending(conn: Connection, project_id: int) -> bool:
    row = conn.execute(select(events.c.id).where(
        events.c.project_id == project_id, events.c.processed_at.is_(None)).limit(1)).first()
    return row is not None


def count_events(conn: Connection, project_id: int | None = None) -> dict[str, int]:
    """``{"total": n, "pending": m}`` for one project or all."""
    where = [] if project_id is None else [events.c.project_id == project_id]
    total = conn.execute(select(func.count()).select_from(events).where(*where)).scalar_one()
    pending = conn.execute(select(func.count()).select_from(events).where(
        *where, events.c.processed_at.is_(None))).scalar_one()
    return {"total": int(total), "pending": int(pending)}


def prune_processed(conn: Connection, older_than: float) -> int:
    """Delete events processed before ``older_than`` (Unix s); returns how many."""
    result = conn.execute(delete(events).where(and_(
        events.c.processed_at.is_not(None), events.c.processed_at < older_than)))
    return int(result.rowcount)
