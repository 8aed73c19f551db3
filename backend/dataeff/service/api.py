"""dataeff's own HTTP API: the estimate of a project and Prometheus metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from dataeff.errors import NotFoundError
from dataeff.labelstudio.params import ProjectParams
from dataeff.labelstudio.status import NO_ESTIMATE_TEXT
from dataeff.service.auth import require_basic
from dataeff.service.estimate import Counts
from dataeff.service.protocol import runtime
from dataeff.service.store import projects
from dataeff.service.store.schema import annotations_table, tasks

bp = Blueprint("api", __name__)
HISTORY_LIMIT = 50
_NULL_FIELDS = ("examples_needed", "examples_needed_interval", "remaining", "remaining_interval",
                "coslow", "coslow_interval", "auc", "auc_interval", "calibration", "curve")


@bp.before_request
def _authenticate() -> None:
    require_basic(request, runtime().settings)


@bp.get("/api/projects/<int:project_id>/estimate")
def estimate(project_id: int) -> ResponseReturnValue:
    """The current verdict, examples needed with its range, CoS-Low, counts and history."""
    rt = runtime()
    with rt.store.read() as conn:
        row = projects.get_project(conn, project_id)
        if row is None and rt.store.has_pending(project_id):
            row = projects.ProjectRow(project_id, None, None, {}, "idle", None, None, None)
        if row is None:
            raise NotFoundError(f"project {project_id} is unknown to dataeff (no /setup and "
                                "no webhook for it yet)")
        rows = projects.estimate_rows(conn, project_id, HISTORY_LIMIT + 1)
        if rows:
            body: dict[str, Any] = dict(rows[0].body)
            body.update(estimate_id=rows[0].id, updated_at=_iso(rows[0].created_at))
        else:
            params = ProjectParams.parse(row.params)
            body = dict.fromkeys(_NULL_FIELDS)
            body.update(verdict="collecting", message=NO_ESTIMATE_TEXT, provisional=False,
                        counts=_plain_counts(conn, project_id).as_dict(params.min_examples),
                        model_version=rt.settings.model_version, criteria=params.criteria(),
                        estimate_id=None, updated_at=None)
    body.update(project=project_id, state=rt.state(project_id, row.job_state),
                error=row.last_error,
                history=[{"estimate_id": r.id, "created_at": _iso(r.created_at),
                          "verdict": r.body["verdict"], "annotated": r.body["counts"]["annotated"],
                          "coslow": r.body["coslow"], "examples_needed": r.body["examples_needed"],
                          "examples_needed_interval": r.body["examples_needed_interval"]}
                         for r in rows[1:]])
    return jsonify(body)


@bp.get("/metrics")
def metrics() -> ResponseReturnValue:
    rt = runtime()
    pending = rt.store.pending()
    depth = max(rt.queue.depth(), len(pending))
    return Response(rt.metrics.render(depth, sum(pending.values())),
                    mimetype="text/plain; version=0.0.4; charset=utf-8")


def _plain_counts(conn: Any, project_id: int) -> Counts:
    """The pool's counts before the first estimate (no low-confidence set yet)."""
    n_tasks = conn.execute(select(func.count()).select_from(tasks)
                           .where(tasks.c.project_id == project_id)).scalar_one()
    scored = conn.execute(select(func.count()).select_from(tasks).where(
        tasks.c.project_id == project_id, tasks.c.confidence.is_not(None))).scalar_one()
    annotated = conn.execute(select(func.count(func.distinct(annotations_table.c.task_id))).where(
        annotations_table.c.project_id == project_id,
        annotations_table.c.was_cancelled.is_(False))).scalar_one()
    return Counts(int(n_tasks), int(scored), int(annotated), 0, 0)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
