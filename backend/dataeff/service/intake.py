"""Webhook intake: validate a Label Studio event and derive its delivery key (LS §4).

Label Studio sends no delivery id, so the key is derived from the content that identifies
one delivery: action + project + the ids involved + each annotation's ``updated_at`` (its
content hash when absent) or each task's data hash. A redelivery of the same content is
therefore a no-op, while a later update of the same annotation is a new event.
START_TRAINING carries no ids: deliveries within one 10-second bucket count as one click.
PROJECT_UPDATED is stored only when the label config changed (dataeff's own instruction
writes come back as PROJECT_UPDATED echoes with the config unchanged: ignored, no loop).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dataeff.errors import InvalidInputError
from dataeff.labelstudio.mapping import config_hash
from dataeff.labelstudio.records import parse_annotation, parse_task, require_id

STORED_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED",
                  "ANNOTATIONS_DELETED", "TASKS_CREATED", "TASKS_DELETED", "START_TRAINING",
                  "PROJECT_UPDATED")
#: actions Label Studio sends with send_for_all_actions that carry nothing dataeff uses
IGNORED_ACTIONS = ("LABEL_LINK_CREATED", "LABEL_LINK_UPDATED", "LABEL_LINK_DELETED",
                   "PROJECT_CREATED", "PROJECT_DELETED", "REVIEW_CREATED", "REVIEW_UPDATED",
                   "REVIEWS_DELETED")
START_TRAINING_BUCKET_S = 10


@dataclass(frozen=True)
class Intake:
    """What to do with one webhook: store it under ``delivery_key``, or ignore it."""

    action: str
    project_id: int | None
    delivery_key: str | None
    ignored: str | None = None       # why it is not stored


def parse_webhook(body: object, stored_config_hash: Callable[[int], str | None],
                  now: float | None = None) -> Intake:
    """Validate ``body``; raises :class:`InvalidInputError` naming the bad field."""
    if not isinstance(body, Mapping):
        raise InvalidInputError(f"webhook body must be a JSON object, got {type(body).__name__}")
    action = body.get("action")
    if not isinstance(action, str) or not action:
        raise InvalidInputError("webhook body needs an 'action' string")
    if action in IGNORED_ACTIONS:
        return Intake(action, None, None, f"{action} is not used by dataeff")
    if action not in STORED_ACTIONS:
        raise InvalidInputError(f"unknown webhook action {action!r}; dataeff handles "
                                f"{list(STORED_ACTIONS)}")
    pid = _project_id(body)
    if action in ("ANNOTATION_CREATED", "ANNOTATION_UPDATED"):
        task = parse_task(body.get("task"), "task")
        ann = parse_annotation(body.get("annotation"), "annotation", task.id)
        return Intake(action, pid, f"{action}:{pid}:{ann.id}:{_h(ann.version)}")
    if action == "ANNOTATIONS_CREATED":
        anns = _list(body, "annotation")
        tasks = [parse_task(t, f"task[{i}]") for i, t in enumerate(_list(body, "task"))]
        parsed = [parse_annotation(a, f"annotation[{i}]") for i, a in enumerate(anns)]
        known = {t.id for t in tasks}
        for a in parsed:
            if a.task_id not in known:
                raise InvalidInputError(f"annotation {a.id}: its task {a.task_id} is not in "
                                        "the event's 'task' list")
        digest = _h(sorted((a.id, a.version) for a in parsed))
        return Intake(action, pid, f"{action}:{pid}:{digest}")
    if action in ("ANNOTATIONS_DELETED", "TASKS_DELETED"):
        field = "annotations" if action == "ANNOTATIONS_DELETED" else "tasks"
        ids = sorted(_ids(body, field))
        return Intake(action, pid, f"{action}:{pid}:{_h(ids)}")
    if action == "TASKS_CREATED":
        tasks = [parse_task(t, f"tasks[{i}]") for i, t in enumerate(_list(body, "tasks"))]
        digest = _h(sorted((t.id, t.data_hash) for t in tasks))
        return Intake(action, pid, f"{action}:{pid}:{digest}")
    if action == "START_TRAINING":
        bucket = int((time.time() if now is None else now) // START_TRAINING_BUCKET_S)
        return Intake(action, pid, f"{action}:{pid}:{bucket}")
    project = body.get("project")
    xml = project.get("label_config") if isinstance(project, Mapping) else None
    if not isinstance(xml, str) or not xml.strip():
        return Intake(action, pid, None, "PROJECT_UPDATED without a label_config")
    digest = config_hash(xml)
    if stored_config_hash(pid) == digest:
        return Intake(action, pid, None, "label config unchanged (echo of a dataeff write?)")
    stamp = project.get("updated_at") if isinstance(project, Mapping) else None
    return Intake(action, pid, f"{action}:{pid}:{digest}:{_h(stamp)}")


def _project_id(body: Mapping[str, Any]) -> int:
    project = body.get("project")
    if isinstance(project, Mapping):
        return require_id(project.get("id"), "project.id")
    if project is not None:
        return require_id(project, "project")
    annotation = body.get("annotation")
    if isinstance(annotation, Mapping) and "project" in annotation:
        return require_id(annotation["project"], "annotation.project")
    raise InvalidInputError("webhook body needs a 'project' object with an 'id'")


def _list(body: Mapping[str, Any], field: str) -> list[Any]:
    value = body.get(field)
    if not isinstance(value, list):
        raise InvalidInputError(f"'{field}' must be a list, got {type(value).__name__}")
    return value


def _ids(body: Mapping[str, Any], field: str) -> list[int]:
    out = []
    for i, item in enumerate(_list(body, field)):
        raw = item.get("id") if isinstance(item, Mapping) else item
        out.append(require_id(raw, f"{field}[{i}].id"))
    return out


def _h(value: object) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:24]
