"""Label Studio tasks and annotations as validated records (LS §4 payload shapes).

Webhook bodies, SDK responses and the store all pass through these two records, so every
layer agrees on what a task or an annotation is. Parsing raises
:class:`~dataeff.errors.InvalidInputError` naming the field and the value.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dataeff.errors import InvalidInputError


@dataclass(frozen=True)
class TaskRecord:
    """One task: ``id``, its ``data`` dict (the fields object tags read)."""

    id: int
    data: Mapping[str, Any] = field(hash=False)

    @property
    def data_hash(self) -> str:
        return content_hash(self.data)


@dataclass(frozen=True)
class AnnotationRecord:
    """One annotation; ``updated_at`` is Label Studio's ISO timestamp ('' when absent)."""

    id: int
    task_id: int
    result: list[Any] = field(hash=False)
    was_cancelled: bool = False
    updated_at: str = ""

    @property
    def version(self) -> str:
        """What makes a redelivery identical: the timestamp, else the content."""
        return self.updated_at or content_hash([self.result, self.was_cancelled])


def content_hash(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def require_id(value: object, where: str) -> int:
    """A positive integer id (Label Studio ids are ints; numeric strings are accepted)."""
    if isinstance(value, bool):
        raise InvalidInputError(f"{where} must be an integer id, got {value!r}")
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or value < 0:
        raise InvalidInputError(f"{where} must be an integer id, got {value!r}")
    return value


def parse_task(raw: object, where: str = "task") -> TaskRecord:
    if not isinstance(raw, Mapping):
        raise InvalidInputError(f"{where} must be an object, got {type(raw).__name__}")
    data = raw.get("data")
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"{where}.data must be an object, got {type(data).__name__}")
    return TaskRecord(require_id(raw.get("id"), f"{where}.id"), dict(data))


def parse_annotation(raw: object, where: str = "annotation",
                     task_id: int | None = None) -> AnnotationRecord:
    """Parse an annotation; ``task_id`` is used when the dict lacks ``task``."""
    if not isinstance(raw, Mapping):
        raise InvalidInputError(f"{where} must be an object, got {type(raw).__name__}")
    task = raw.get("task", task_id)
    if isinstance(task, Mapping):
        task = task.get("id")
    result = raw.get("result")
    if result is None:
        result = []
    if not isinstance(result, list):
        raise InvalidInputError(f"{where}.result must be a list, got {type(result).__name__}")
    cancelled = raw.get("was_cancelled", False)
    if not isinstance(cancelled, bool):
        raise InvalidInputError(f"{where}.was_cancelled must be a boolean, got {cancelled!r}")
    updated = raw.get("updated_at") or ""
    if not isinstance(updated, str):
        raise InvalidInputError(f"{where}.updated_at must be a string, got {updated!r}")
    return AnnotationRecord(require_id(raw.get("id"), f"{where}.id"),
                            require_id(task, f"{where}.task"), list(result), cancelled, updated)


def latest_first(annotations: Iterable[AnnotationRecord]) -> list[AnnotationRecord]:
    """Non-cancelled annotations, newest first (by ``updated_at``, then by id)."""
    kept = [a for a in annotations if not a.was_cancelled]
    return sorted(kept, key=lambda a: (a.updated_at, a.id), reverse=True)
