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
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from dataeff.errors import DataeffError
from dataeff.labelstudio.gateway import TaskSnapshot
from dataeff.labelstudio.mapping import config_hash
from dataeff.labelstudio.records import parse_annotation, parse_task, require_id
from dataeff.service.store import EventRow, Store, events, pool, projects

log = logging.getLogger(__name__)

RECONCILE_ACTIONS = frozenset({"START_TRAINING", "RECONCILE"})


@dataclass(frozen=True)
class Applied:
    """What one batch of events asked for."""

    n_events: int
    n_failed: int
    reconcile: bool


APPLY_CHUNK = 50   # events per write transaction: the webhook INSERTs wait on this lock


def apply_events(store: Store, project_id: int, rows: list[EventRow]) -> Applied:
    """Apply ``rows`` (the project's pending events) and mark them processed; each chunk of
    :data:`APPLY_CHUNK` events is one short transaction (atomic: applied and marked)."""
    failed = 0
    reconcile = False
    with store.write() as conn:
        projects.ensure_project(conn, project_id)
    for start in range(0, len(rows), APPLY_CHUNK):
        done, flag = _apply_chunk(store, project_id, rows[start:start + APPLY_CHUNK])
        failed += done
        reconcile |= flag
    return Applied(len(rows), failed, reconcile)


def _apply_chunk(store: Store, project_id: int, rows: list[EventRow]) -> tuple[int, bool]:
    failed = 0
    reconcile = False
    with store.write() as conn:
        for row in rows:
            error: str | None = None
            try:
                with conn.begin_nested():
                    reconcile |= _apply_one(conn, project_id, row.action,
                                            json.loads(row.payload))
            except (DataeffError, ValueError, KeyError, TypeError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                failed += 1
                log.warning("project %s: event %s (%s) skipped: %s", project_id, row.id,
                            row.action, error)
            events.mark_processed(conn, row.id, error)
    return failed, reconcile


def _apply_one(conn: Connection, pid: int, action: str, body: Any) -> bool:
    if action in RECONCILE_ACTIONS:
        return True
    project = body.get("project") if isinstance(body, Mapping) else None
    if isinstance(project, Mapping) and isinstance(project.get("label_config"), str):
        set_label_config(conn, pid, project["label_config"])
    if action in ("ANNOTATION_CREATED", "ANNOTATION_UPDATED"):
        task = parse_task(body["task"])
        pool.upsert_tasks(conn, pid, [task])
        pool.upsert_annotations(conn, pid, [parse_annotation(body["annotation"], task_id=task.id)])
    elif action == "ANNOTATIONS_CREATED":
        pool.upsert_tasks(conn, pid, [parse_task(t) for t in body["task"]])
        pool.upsert_annotations(conn, pid, [parse_annotation(a) for a in body["annotation"]])
    elif action == "ANNOTATIONS_DELETED":
        pool.delete_annotations(conn, pid, _ids(body["annotations"]))
    elif action == "TASKS_CREATED":
        pool.upsert_tasks(conn, pid, [parse_task(t) for t in body["tasks"]])
    elif action == "TASKS_DELETED":
        pool.delete_tasks(conn, pid, _ids(body["tasks"]))
    return False


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
