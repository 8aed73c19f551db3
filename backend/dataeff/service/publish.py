"""Publish a project's state to Label Studio after a job (LS §5-§6), with bounded writes.

1. **Confidence predictions**, once per task: ``score`` = zero-shot confidence and the stable
   ``model_version``, so "Uncertainty sampling" serves the least confident tasks first
   (method §4: that is where CoS-Low needs labels). Predictions Label Studio already holds
   under that version (e.g. saved from ``/predict``) are adopted, not duplicated; a changed
   confidence updates the existing prediction.
2. **Status text in the editor** (configs with the ``dataeff_status`` control): each
   prediction carries the status sentence; after a re-estimation only the next
   ``refresh_tasks`` tasks in serving order (unlabeled, least confident first) get the new
   sentence, so a re-estimation costs at most that many writes, never one per task.
3. **Project instructions**: dataeff's paragraph, rewritten only when the verdict kind
   changes (the PROJECT_UPDATED echo of that write is ignored by the intake).

A Label Studio failure is logged and reported on the project; the estimate stands.
"""

from __future__ import annotations

import logging
from typing import Any

from dataeff.errors import DataeffError
from dataeff.labelstudio.gateway import LabelStudioGateway, PredictionInfo
from dataeff.labelstudio.mapping import ProjectMapping
from dataeff.labelstudio.status import instruction_block, merge_instruction, status_region
from dataeff.service.metrics import Metrics
from dataeff.service.store import Store, pool, projects

log = logging.getLogger(__name__)
_SAVE_EVERY = 50


def publish(gateway: LabelStudioGateway | None, store: Store, metrics: Metrics, pid: int,
            mapping: ProjectMapping, *, body: dict[str, Any], score_key: str,
            model_version: str, refresh_tasks: int) -> str | None:
    """Write to Label Studio; returns the failure to report on the project, or ``None``."""
    if gateway is None:
        return None
    try:
        _predictions(gateway, store, metrics, pid, mapping, body=body, score_key=score_key,
                     model_version=model_version, refresh_tasks=refresh_tasks)
        _instructions(gateway, store, metrics, pid, str(body["verdict"]))
    except DataeffError as error:
        log.warning("project %s: publishing to Label Studio failed: %s", pid, error)
        return f"publishing to Label Studio failed: {error}"
    return None


def _predictions(gateway: LabelStudioGateway, store: Store, metrics: Metrics, pid: int,
                 mapping: ProjectMapping, *, body: dict[str, Any], score_key: str,
                 model_version: str, refresh_tasks: int) -> None:
    text = str(body["message"]) if mapping.status is not None else None
    result = [] if mapping.status is None else [status_region(mapping.status, str(text))]
    with store.read() as conn:
        tasks = [t for t in pool.load_tasks(conn, pid)
                 if t.score_key == score_key and t.confidence is not None]
        labeled = {a.task_id for a in pool.load_annotations(conn, pid) if not a.was_cancelled}
    missing = [t for t in tasks if t.prediction_id is None]
    existing: dict[int, PredictionInfo] = {}
    if missing:
        existing = {p.task_id: p for p in gateway.list_predictions(pid)
                    if p.model_version == model_version}
    serving = sorted((t for t in tasks if t.task_id not in labeled),
                     key=lambda t: (t.confidence, t.task_id))
    fresh = {t.task_id for t in serving[:refresh_tasks]}
    created = updated = 0
    done: list[tuple[int, int, float, str | None]] = []
    for task in tasks:
        score = float(task.confidence or 0.0)
        prediction_id, status, known_score = (task.prediction_id, task.prediction_status,
                                              task.prediction_score)
        if prediction_id is None and task.task_id in existing:     # adopt, don't duplicate
            found = existing[task.task_id]
            prediction_id, status, known_score = found.id, None, found.score
        if prediction_id is None:
            prediction_id = gateway.create_prediction(task.task_id, result=result, score=score,
                                                      model_version=model_version)
            created += 1
            status = text
        elif known_score != score or (task.task_id in fresh and status != text):
            gateway.update_prediction(prediction_id, result=result, score=score,
                                      model_version=model_version)
            updated += 1
            status = text
        elif prediction_id == task.prediction_id:
            continue
        done.append((task.task_id, prediction_id, score, status))
        if len(done) >= _SAVE_EVERY:
            _save(store, pid, done)
    _save(store, pid, done)
    if created or updated:
        metrics.ls_write("predictions.create", created)
        metrics.ls_write("predictions.update", updated)
        log.info("project %s: predictions created=%d updated=%d", pid, created, updated)


def _save(store: Store, pid: int, done: list[tuple[int, int, float, str | None]]) -> None:
    """Record written predictions (in batches: short transactions, bounded loss on a crash;
    a prediction written but not recorded is adopted from Label Studio next time)."""
    if done:
        with store.write() as conn:
            for task_id, prediction_id, score, status in done:
                pool.save_prediction(conn, pid, task_id, prediction_id=prediction_id,
                                     score=score, status=status)
        done.clear()


def _instructions(gateway: LabelStudioGateway, store: Store, metrics: Metrics, pid: int,
                  verdict: str) -> None:
    project = store.get_project(pid)
    if project is None or project.published_kind == verdict:
        return
    info = gateway.get_project(pid)
    text = merge_instruction(info.expert_instruction, instruction_block(verdict))
    if text != info.expert_instruction or not info.show_instruction:
        gateway.update_project(pid, expert_instruction=text, show_instruction=True)
        metrics.ls_write("projects.update")
        log.info("project %s: instructions now say %s", pid, verdict)
    with store.write() as conn:
        projects.set_fields(conn, pid, published_kind=verdict)

