"""A project's pool as the store holds it: tasks (with confidence and the prediction dataeff
published for them), all their annotations, and the gradient sketches of labeled examples.

Sketches are keyed by ``(project, task, answer_hash, model_key)``: a changed answer or
another model needs a new sketch, and a deleted annotation's sketch is pruned.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, and_, delete, select, tuple_, update

from dataeff.labelstudio.records import AnnotationRecord, TaskRecord
from dataeff.service.store.schema import annotations_table, sketches, tasks
from dataeff.service.store.sql import upsert

_CHUNK = 500  # ids per IN (...) clause


@dataclass(frozen=True)
class TaskRow:
    task_id: int
    data: dict[str, Any]
    confidence: float | None
    score_key: str | None
    unusable: str | None
    prediction_id: int | None
    prediction_score: float | None
    prediction_status: str | None


def upsert_tasks(conn: Connection, project_id: int, records: Iterable[TaskRecord]) -> int:
    """Insert new tasks; a task whose data changed loses its confidence (to be rescored)."""
    new = {r.id: r for r in records}
    if not new:
        return 0
    known: dict[int, str] = {}
    for chunk in _chunks(sorted(new)):
        known.update((r.task_id, r.data_hash) for r in conn.execute(
            select(tasks.c.task_id, tasks.c.data_hash).where(
                tasks.c.project_id == project_id, tasks.c.task_id.in_(chunk))))
    rows = [{"project_id": project_id, "task_id": r.id, "data": json.dumps(r.data),
             "data_hash": r.data_hash, "confidence": None, "score_key": None, "unusable": None}
            for r in new.values() if known.get(r.id) != r.data_hash]
    upsert(conn, tasks, ["project_id", "task_id"], rows,
           ["data", "data_hash", "confidence", "score_key", "unusable"])
    return len(rows)


def delete_tasks(conn: Connection, project_id: int, task_ids: Sequence[int]) -> None:
    """Delete tasks with their annotations and sketches."""
    for chunk in _chunks(sorted(set(task_ids))):
        for table in (tasks, annotations_table, sketches):
            conn.execute(delete(table).where(table.c.project_id == project_id,
                                             table.c.task_id.in_(chunk)))


def upsert_annotations(conn: Connection, project_id: int,
                       records: Iterable[AnnotationRecord]) -> None:
    rows = [{"project_id": project_id, "annotation_id": a.id, "task_id": a.task_id,
             "result": json.dumps(a.result), "was_cancelled": a.was_cancelled,
             "updated_at": a.updated_at} for a in records]
    upsert(conn, annotations_table, ["project_id", "annotation_id"], rows,
           ["task_id", "result", "was_cancelled", "updated_at"])


def delete_annotations(conn: Connection, project_id: int, annotation_ids: Sequence[int]) -> None:
    for chunk in _chunks(sorted(set(annotation_ids))):
        conn.execute(delete(annotations_table).where(annotations_table.c.project_id == project_id,
                                               annotations_table.c.annotation_id.in_(chunk)))


def task_ids(conn: Connection, project_id: int) -> set[int]:
    return set(conn.execute(select(tasks.c.task_id).where(tasks.c.project_id == project_id))
               .scalars())


def annotation_ids(conn: Connection, project_id: int) -> set[int]:
    return set(conn.execute(select(annotations_table.c.annotation_id)
                            .where(annotations_table.c.project_id == project_id)).scalars())


def load_tasks(conn: Connection, project_id: int) -> list[TaskRow]:
    rows = conn.execute(select(tasks).where(tasks.c.project_id == project_id)
                        .order_by(tasks.c.task_id))
    return [TaskRow(r.task_id, json.loads(r.data), r.confidence, r.score_key, r.unusable,
                    r.prediction_id, r.prediction_score, r.prediction_status) for r in rows]


def load_annotations(conn: Connection, project_id: int) -> list[AnnotationRecord]:
    table = annotations_table
    rows = conn.execute(select(table).where(table.c.project_id == project_id)
                        .order_by(table.c.annotation_id))
    return [AnnotationRecord(r.annotation_id, r.task_id, json.loads(r.result),
                             bool(r.was_cancelled), r.updated_at) for r in rows]


def confidences(conn: Connection, project_id: int, ids: Sequence[int]) -> dict[int, float]:
    """Known confidences of the given tasks (any model; the latest scoring)."""
    out: dict[int, float] = {}
    for chunk in _chunks(sorted(set(ids))):
        out.update((r.task_id, r.confidence) for r in conn.execute(
            select(tasks.c.task_id, tasks.c.confidence).where(
                tasks.c.project_id == project_id, tasks.c.task_id.in_(chunk),
                tasks.c.confidence.is_not(None))))
    return out


def save_scores(conn: Connection, project_id: int, score_key: str,
                scores: Mapping[int, float | None], unusable: Mapping[int, str]) -> None:
    """Store confidences (``None`` + a reason in ``unusable`` for tasks that cannot be scored)."""
    for task_id, value in scores.items():
        conn.execute(update(tasks).where(tasks.c.project_id == project_id,
                                         tasks.c.task_id == task_id)
                     .values(confidence=value, score_key=score_key,
                             unusable=unusable.get(task_id)))


def save_prediction(conn: Connection, project_id: int, task_id: int, *, prediction_id: int,
                    score: float, status: str | None) -> None:
    conn.execute(update(tasks)
                 .where(tasks.c.project_id == project_id, tasks.c.task_id == task_id)
                 .values(prediction_id=prediction_id, prediction_score=score,
                         prediction_status=status))


def load_sketches(conn: Connection, project_id: int, model_key: str,
                  wanted: Iterable[tuple[int, str]]) -> dict[tuple[int, str], npt.NDArray[Any]]:
    """Stored sketches for ``(task_id, answer_hash)`` pairs under ``model_key``."""
    want = sorted(set(wanted))
    out: dict[tuple[int, str], npt.NDArray[Any]] = {}
    for chunk in _chunks(want):
        rows = conn.execute(select(sketches).where(
            sketches.c.project_id == project_id, sketches.c.model_key == model_key,
            tuple_(sketches.c.task_id, sketches.c.answer_hash).in_(chunk)))
        for r in rows:
            out[(r.task_id, r.answer_hash)] = np.frombuffer(r.vector, dtype="<f4").reshape(r.dim)
    return out


def save_sketches(conn: Connection, project_id: int, model_key: str,
                  items: Mapping[tuple[int, str], npt.NDArray[Any]]) -> None:
    rows = [{"project_id": project_id, "task_id": t, "answer_hash": h, "model_key": model_key,
             "dim": int(v.shape[0]), "vector": np.ascontiguousarray(v, dtype="<f4").tobytes()}
            for (t, h), v in items.items()]
    upsert(conn, sketches, ["project_id", "task_id", "answer_hash", "model_key"], rows,
           ["dim", "vector"])


def prune_sketches(conn: Connection, project_id: int, keep: set[tuple[int, str]]) -> int:
    """Delete sketches whose (task, answer) is no longer a current labeled example."""
    stored = {(r.task_id, r.answer_hash) for r in conn.execute(
        select(sketches.c.task_id, sketches.c.answer_hash)
        .where(sketches.c.project_id == project_id))}
    gone = sorted(stored - keep)
    for task_id, answer_hash in gone:
        conn.execute(delete(sketches).where(and_(
            sketches.c.project_id == project_id, sketches.c.task_id == task_id,
            sketches.c.answer_hash == answer_hash)))
    return len(gone)


def _chunks(items: Sequence[Any]) -> list[list[Any]]:
    seq = list(items)
    return [seq[i:i + _CHUNK] for i in range(0, len(seq), _CHUNK)]
