"""The Label Studio ML backend protocol (LS §1, §4): ``/``, ``/health``, ``/setup``,
``/predict``, ``/webhook``, ``/versions``. Every answer is JSON and comes in milliseconds:
no model is loaded or run here, and ``/webhook`` does one INSERT before answering.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from dataeff.errors import DataeffError, InvalidInputError
from dataeff.labelstudio.params import ProjectParams
from dataeff.labelstudio.records import require_id
from dataeff.labelstudio.status import NO_ESTIMATE_TEXT, find_status_control, status_region
from dataeff.service.auth import require_basic, require_webhook
from dataeff.service.intake import Intake, parse_webhook
from dataeff.service.runtime import Runtime
from dataeff.service.store import pool, projects

log = logging.getLogger(__name__)
bp = Blueprint("protocol", __name__)
MODEL_CLASS = "DataEff"


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["dataeff"]
    return rt


def json_body() -> Any:
    """The request's JSON body; :class:`InvalidInputError` for an empty or malformed one."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise InvalidInputError("request body is empty; send a JSON object")
    try:
        return json.loads(raw)
    except ValueError as error:
        raise InvalidInputError(f"request body is not valid JSON: {error}") from None


def project_id_of(value: object, where: str = "project") -> int:
    """Label Studio sends ``"<id>.<created_unix_ts>"`` (setup, predict) or an int."""
    if isinstance(value, str) and "." in value:
        value = value.split(".", 1)[0]
    return require_id(value, where)


@bp.before_request
def _authenticate() -> None:
    if request.endpoint != "protocol.webhook":
        require_basic(request, runtime().settings)


@bp.get("/")
@bp.get("/health")
def health() -> ResponseReturnValue:
    rt = runtime()
    return jsonify(status="UP", model_class=MODEL_CLASS, model_version=rt.settings.model_version,
                   models_loaded=rt.scorers.loaded())


@bp.get("/versions")
def versions() -> ResponseReturnValue:
    return jsonify(versions=[runtime().settings.model_version])


@bp.post("/setup")
def setup() -> ResponseReturnValue:
    body = json_body()
    if not isinstance(body, Mapping):
        raise InvalidInputError("setup body must be a JSON object")
    pid = project_id_of(body.get("project"))
    schema = body.get("schema")
    if schema is not None and not isinstance(schema, str):
        raise InvalidInputError(f"setup 'schema' must be the label config XML string, "
                                f"got {type(schema).__name__}")
    raw_params = body.get("extra_params")
    params = None if raw_params is None else ProjectParams.parse(raw_params)
    runtime().setup_project(pid, schema or None, params)
    return jsonify(model_version=runtime().settings.model_version)


@bp.post("/predict")
def predict() -> ResponseReturnValue:
    rt = runtime()
    body = json_body()
    if not isinstance(body, Mapping):
        raise InvalidInputError("predict body must be a JSON object")
    tasks = body.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        raise InvalidInputError("predict 'tasks' must be a non-empty list of tasks")
    ids = [require_id(t.get("id") if isinstance(t, Mapping) else None, f"tasks[{i}].id")
           for i, t in enumerate(tasks)]
    raw_project = body.get("project") or tasks[0].get("project")
    pid = project_id_of(raw_project)
    xml = body.get("label_config")
    with rt.store.read() as conn:
        row = projects.get_project(conn, pid)
        scores = pool.confidences(conn, pid, ids)
        latest = projects.estimate_rows(conn, pid, 1)
    if not isinstance(xml, str) or not xml.strip():
        xml = row.label_config if row is not None else None
    status = find_status_control(xml) if xml else None
    text = str(latest[0].body.get("message")) if latest else NO_ESTIMATE_TEXT
    results: list[dict[str, Any]] = []
    for task_id in ids:
        item: dict[str, Any] = {"result": [] if status is None else [status_region(status, text)],
                                "model_version": rt.settings.model_version}
        if task_id in scores:
            item["score"] = scores[task_id]
        results.append(item)
    return jsonify(results=results, model_version=rt.settings.model_version)


@bp.post("/webhook")
def webhook() -> ResponseReturnValue:
    rt = runtime()
    body = json_body()
    action = body.get("action") if isinstance(body, Mapping) else None
    require_webhook(request, rt.settings, action if isinstance(action, str) else None)
    try:
        intake = parse_webhook(body, _stored_config_hash)
    except DataeffError:
        rt.metrics.event(str(action)[:40] if isinstance(action, str) else "?", "rejected")
        raise
    except Exception:
        # a bug in validation must not lose the event: keep it under its content hash
        log.exception("webhook validation crashed; storing the event unvalidated")
        intake = _unvalidated(body)
    if intake.delivery_key is None or intake.project_id is None:
        rt.metrics.event(intake.action, "ignored")
        return jsonify(status="ignored", action=intake.action, reason=intake.ignored), 200
    payload = request.get_data(as_text=True)
    stored = rt.accept(intake.project_id, intake.action, intake.delivery_key, payload)
    rt.metrics.event(intake.action, "stored" if stored else "duplicate")
    if not stored:
        return jsonify(status="duplicate", action=intake.action, project=intake.project_id), 200
    return jsonify(status="queued", action=intake.action, project=intake.project_id), 202


def _stored_config_hash(project_id: int) -> str | None:
    row = runtime().store.get_project(project_id)
    return None if row is None else row.config_hash


def _unvalidated(body: Any) -> Intake:
    action = str(body.get("action", "UNKNOWN"))[:40]
    project = body.get("project")
    raw = project.get("id") if isinstance(project, Mapping) else project
    pid = raw if isinstance(raw, int) and not isinstance(raw, bool) else 0
    digest = hashlib.sha256(request.get_data()).hexdigest()[:32]
    return Intake(action, pid, f"RAW:{digest}")
