"""Apply stored events and Label Studio snapshots to the store (job step 1).

Events are applied oldest first, each in its own savepoint: one malformed or unexpected
event is marked with its error and skipped instead of blocking the project. Applying is
idempotent (upserts and deletes by id), so an event applied twice after a crash between
"applied" and "marked" changes nothing.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from dataeff.errors import DataeffError
from dataeff.labelstudio.gateway import TaskSnapshot
from dataeff.labelstudio.mapping import config_hash
from dataeff.labelstudio.records import (
    AnnotationRecord,
    TaskRecord,
    parse_annotation,
    parse_task,
    require_id,
)
from dataeff.service.store import EventRow, Store, events, pool, projects

log = logging.getLogger(__name__)

RECONCILE_ACTIONS = frozenset({"START_TRAINING", "RECONCILE"})


APPLY_CHUNK = 100  # events per write transaction


@dataclass
class _Change:
    """What one event asks of the pool, parsed before the write lock is taken."""

    event_id: int
    action: str
    reconcile: bool = False
    label_config: str | None = None
    tasks: list[TaskRecord] = field(default_factory=list)
    annotations: list[AnnotationRecord] = field(default_factory=list)
    deleted_tasks: list[int] = field(default_factory=list)
    deleted_annotations: list[int] = field(default_factory=list)
    error: str | None = None


def apply_events(store: Store, project_id: int, rows: list[EventRow]) -> bool:
    """Apply ``rows`` (the project's pending events) and mark them processed; ``True`` when
    one of them asks for a reconcile with Label Studio. The project row must exist.

    SQLite has one writer, so the work under the write lock is kept to a few statements per
    chunk of :data:`APPLY_CHUNK` events: payloads are parsed first, a run of upserts is
    merged into one (the later event wins, as applying them in turn would; Label Studio
    repeats the label config in every event, so only a changed one breaks the run), and each
    chunk is one transaction (atomic: applied and marked). Should that transaction
    fail, the chunk is applied again one event at a time, each in its own savepoint, so one
    bad event is marked with its error instead of blocking the project.
    """
    changes = [_parse(row) for row in rows]
    for change in changes:
        if change.error is not None:
            log.warning("project %s: event %s (%s) skipped: %s", project_id, change.event_id,
                        change.action, change.error)
    for start in range(0, len(rows), APPLY_CHUNK):
        chunk = changes[start:start + APPLY_CHUNK]
        try:
            with store.write() as conn:
                _write(conn, project_id, chunk)
        except (SQLAlchemyError, DataeffError) as error:
            log.warning("project %s: applying %d events together failed (%s); one at a time",
                        project_id, len(chunk), error)
            _apply_singly(store, project_id, chunk)
    return any(c.reconcile for c in changes)


def _parse(row: EventRow) -> _Change:
    change = _Change(row.id, row.action)
    try:
        body = json.loads(row.payload)
        change.reconcile = row.action in RECONCILE_ACTIONS
        if change.reconcile:
            return change
        project = body.get("project") if isinstance(body, Mapping) else None
        if isinstance(project, Mapping) and isinstance(project.get("label_config"), str):
            change.label_config = project["label_config"]
        if row.action in ("ANNOTATION_CREATED", "ANNOTATION_UPDATED"):
            task = parse_task(body["task"])
            change.tasks = [task]
            change.annotations = [parse_annotation(body["annotation"], task_id=task.id)]
        elif row.action == "ANNOTATIONS_CREATED":
            change.tasks = [parse_task(t) for t in body["task"]]
            change.annotations = [parse_annotation(a) for a in body["annotation"]]
        elif row.action == "ANNOTATIONS_DELETED":
            change.deleted_annotations = _ids(body["annotations"])
        elif row.action == "TASKS_CREATED":
            change.tasks = [parse_task(t) for t in body["tasks"]]
        elif row.action == "TASKS_DELETED":
            change.deleted_tasks = _ids(body["tasks"])
    except (DataeffError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return _Change(row.id, row.action, error=f"{type(exc).__name__}: {exc}")
    return change


def _write(conn: Connection, pid: int, changes: list[_Change]) -> None:
    """Apply ``changes`` in order, each run of upserts as one statement per table."""
    tasks: dict[int, TaskRecord] = {}
    anns: dict[int, AnnotationRecord] = {}

    def flush() -> None:
        pool.upsert_tasks(conn, pid, tasks.values())
        pool.upsert_annotations(conn, pid, anns.values())
        tasks.clear()
        anns.clear()

    config: str | None = None      # Label Studio sends the project, config included, each time
    for change in changes:
        if change.error is not None:
            continue
        new_config = change.label_config not in (None, config)
        if new_config or change.deleted_tasks or change.deleted_annotations:
            flush()
            if new_config and change.label_config is not None:
                set_label_config(conn, pid, change.label_config)
                config = change.label_config
            pool.delete_annotations(conn, pid, change.deleted_annotations)
            pool.delete_tasks(conn, pid, change.deleted_tasks)
        tasks.update((t.id, t) for t in change.tasks)
        anns.update((a.id, a) for a in change.annotations)
    flush()
    events.mark_processed_many(conn, [(c.event_id, c.error) for c in changes])


def _apply_singly(store: Store, project_id: int, changes: list[_Change]) -> None:
    with store.write() as conn:
        for change in changes:
            try:
                with conn.begin_nested():
                    _write(conn, project_id, [change])        # marks it processed
            except (DataeffError, SQLAlchemyError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                log.warning("project %s: event %s (%s) skipped: %s", project_id,
                            change.event_id, change.action, error)
                events.mark_processed(conn, change.event_id, error)


def set_label_config(conn: Connection, pid: int, xml: str) -> bool:
    """Store the project's label config when it changed; ``True`` if it did."""
    row = projects.get_project(conn, pid)
    digest = config_hash(xml)
    if row is not None and row.config_hash == digest:
        return False
    projects.set_fields(conn, pid, label_config=xml, config_hash=digest)
    return True


def apply_snapshot(store: Store, project_id: int, snapshots: Iterable[TaskSnapshot],
                   label_config: str | None) -> dict[str, int]:
    """Make the store's pool equal to Label Studio's (reconcile); returns what changed."""
    items = list(snapshots)
    with store.write() as conn:
        projects.ensure_project(conn, project_id)
        if label_config:
            set_label_config(conn, project_id, label_config)
        live_tasks = {s.task.id for s in items}
        live_anns = {a.id for s in items for a in s.annotations}
        gone_tasks = pool.task_ids(conn, project_id) - live_tasks
        gone_anns = pool.annotation_ids(conn, project_id) - live_anns
        pool.delete_tasks(conn, project_id, sorted(gone_tasks))
        pool.delete_annotations(conn, project_id, sorted(gone_anns))
        changed = pool.upsert_tasks(conn, project_id, [s.task for s in items])
        pool.upsert_annotations(conn, project_id, [a for s in items for a in s.annotations])
        projects.set_fields(conn, project_id, synced_at=time.time())
    return {"tasks": len(live_tasks), "annotations": len(live_anns), "tasks_changed": changed,
            "tasks_removed": len(gone_tasks), "annotations_removed": len(gone_anns)}


def _ids(items: list[Any]) -> list[int]:
    return [require_id(i.get("id") if isinstance(i, Mapping) else i, "id") for i in items]
