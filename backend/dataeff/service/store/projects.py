"""Projects (label config, parameters, job state, what was published) and estimate history."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, desc, select, update

from dataeff.service.store.schema import estimates, projects
from dataeff.service.store.sql import insert_ignore


@dataclass(frozen=True)
class ProjectRow:
    id: int
    label_config: str | None
    config_hash: str | None
    params: dict[str, Any]
    job_state: str
    last_error: str | None
    published_kind: str | None
    synced_at: float | None


@dataclass(frozen=True)
class EstimateRow:
    id: int
    created_at: float
    body: dict[str, Any]


def ensure_project(conn: Connection, project_id: int) -> None:
    now = time.time()
    conn.execute(insert_ignore(conn, projects, ["id"]).values(
        id=project_id, params="{}", job_state="idle", created_at=now, updated_at=now))


def get_project(conn: Connection, project_id: int) -> ProjectRow | None:
    r = conn.execute(select(projects).where(projects.c.id == project_id)).first()
    if r is None:
        return None
    return ProjectRow(r.id, r.label_config, r.config_hash, json.loads(r.params), r.job_state,
                      r.last_error, r.published_kind, r.synced_at)


def project_ids(conn: Connection) -> list[int]:
    return list(conn.execute(select(projects.c.id).order_by(projects.c.id)).scalars())


def set_fields(conn: Connection, project_id: int, **values: Any) -> None:
    """Update columns of a project (``params`` as a dict is stored as JSON)."""
    if "params" in values:
        values["params"] = json.dumps(values["params"], sort_keys=True)
    conn.execute(update(projects).where(projects.c.id == project_id)
                 .values(updated_at=time.time(), **values))


def reset_running(conn: Connection) -> int:
    """Mark every 'running' project idle (after a crash, nothing runs at start)."""
    result = conn.execute(update(projects).where(projects.c.job_state == "running")
                          .values(job_state="idle", job_started_at=None))
    return int(result.rowcount)


def insert_estimate(conn: Connection, project_id: int, body: dict[str, Any]) -> int:
    result = conn.execute(estimates.insert().values(
        project_id=project_id, created_at=time.time(), verdict=str(body["verdict"]),
        annotated=int(body["counts"]["annotated"]), body=json.dumps(body, sort_keys=True)))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def estimate_rows(conn: Connection, project_id: int, limit: int) -> list[EstimateRow]:
    """The newest ``limit`` estimates of a project, newest first."""
    rows = conn.execute(select(estimates).where(estimates.c.project_id == project_id)
                        .order_by(desc(estimates.c.id)).limit(limit))
    return [EstimateRow(r.id, r.created_at, json.loads(r.body)) for r in rows]
