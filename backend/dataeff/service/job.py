"""One re-estimation job for one project (architecture "Service data flow", step 2).

:func:`run_job` needs only the project id and a :class:`JobContext`: every input is read from
the store, so any process (the embedded worker thread, an RQ worker) can run it. Steps:
apply pending events → reconcile with Label Studio when asked (START_TRAINING, first sight,
periodic) → confidence pass for tasks lacking a score under the current model and spec
(method §3; time-boxed, the rest in the next job) → gradient sketches for labeled
low-confidence examples (method §4-§5; pruned when an answer changed or was deleted) →
CoS-Low from a :class:`GradientBank` built from the stored sketches (order-free) → verdict
(method §7) → estimate row (only when it changed) → publish to Label Studio.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from dataeff.errors import DataeffError, InvalidInputError
from dataeff.estimator.bank import CosLow, GradientBank
from dataeff.estimator.scorer import Scorer
from dataeff.labelstudio.gateway import LabelStudioGateway
from dataeff.labelstudio.mapping import ProjectMapping, example_for_task, map_label_config
from dataeff.labelstudio.params import ProjectParams
from dataeff.service.apply import apply_events, apply_snapshot
from dataeff.service.estimate import Counts, build_estimate
from dataeff.service.metrics import Metrics
from dataeff.service.publish import publish
from dataeff.service.scorers import ScorerPool
from dataeff.service.selection import answer_hash, answers_by_task, low_confidence_set
from dataeff.service.store import Store, TaskRow, events, pool, projects
from dataeff.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    """Everything a job needs besides the project id (one per process)."""

    settings: Settings
    store: Store
    scorers: ScorerPool
    gateway: LabelStudioGateway | None
    metrics: Metrics


@dataclass(frozen=True)
class JobResult:
    project_id: int
    outcome: str                 # "ok" | "error" | "crash"
    estimate_id: int | None = None
    verdict: str | None = None
    again: bool = False          # work left (confidence pass): run another job
    error: str | None = None


def run_job(ctx: JobContext, project_id: int) -> JobResult:
    """Run one job; never raises (failures are logged and stored on the project)."""
    started = time.monotonic()
    with ctx.store.write() as conn:
        projects.ensure_project(conn, project_id)
        projects.set_fields(conn, project_id, job_state="running", job_started_at=time.time())
    log.info("job project=%s state=running", project_id)
    try:
        result = _run(ctx, project_id, started)
    except DataeffError as error:
        result = JobResult(project_id, "error", error=str(error))
        log.warning("job project=%s failed: %s", project_id, error)
    except Exception as error:
        result = JobResult(project_id, "crash", error=f"{type(error).__name__}: {error}")
        log.exception("job project=%s crashed", project_id)
    seconds = time.monotonic() - started
    with ctx.store.write() as conn:
        projects.set_fields(conn, project_id, job_state="idle", job_started_at=None,
                            last_error=result.error)
    ctx.metrics.job(result.outcome, seconds)
    log.info("job project=%s state=idle outcome=%s seconds=%.2f%s", project_id, result.outcome,
             seconds, " (more work queued)" if result.again else "")
    return result


def _run(ctx: JobContext, pid: int, started: float) -> JobResult:
    ctx.store.drain_inbox()
    with ctx.store.read() as conn:
        pending = events.pending_events(conn, pid)
    wants_reconcile = apply_events(ctx.store, pid, pending)
    project = ctx.store.get_project(pid)
    assert project is not None
    if ctx.gateway is not None and (wants_reconcile or project.synced_at is None):
        reconcile(ctx, pid)
        project = ctx.store.get_project(pid)
        assert project is not None
    params = ProjectParams.parse(project.params)
    mapping = map_label_config(project.label_config or "", control=params.control,
                               instruction=params.instruction)
    scorer = ctx.scorers.get(params.model)
    score_key = f"{scorer.model_key}|{mapping.spec_hash}"
    deadline = started + ctx.settings.confidence_budget_s
    again = _confidence_pass(ctx, pid, mapping, scorer, score_key=score_key, deadline=deadline)
    with ctx.store.read() as conn:
        tasks = pool.load_tasks(conn, pid)
        answers = answers_by_task(mapping.target, pool.load_annotations(conn, pid))
    by_id = {t.task_id: t for t in tasks}
    answers = {t: a for t, a in answers.items() if t in by_id}
    scores = {t.task_id: t.confidence for t in tasks
              if t.score_key == score_key and t.confidence is not None}
    low = low_confidence_set(scores, params.low_confidence_fraction, params.min_examples)
    labeled_low = [t for t in low if t in answers]
    coslow = _coslow(ctx, pid, mapping, scorer, score_key=score_key, tasks=by_id,
                     answers=answers, labeled_low=labeled_low)
    counts = Counts(len(tasks), len(scores), len(answers), len(low), len(labeled_low))
    body = build_estimate(coslow, counts, params, ctx.scorers.model_name(params.model))
    body["model_version"] = ctx.settings.model_version
    estimate_id = _save_estimate(ctx.store, pid, body)
    published = publish(ctx.gateway, ctx.store, ctx.metrics, pid, mapping, body=body,
                        score_key=score_key, model_version=ctx.settings.model_version,
                        refresh_tasks=ctx.settings.status_refresh_tasks)
    ctx.store.prune_events(time.time() - ctx.settings.event_retention_s)
    return JobResult(pid, "ok", estimate_id, body["verdict"], again, error=published)


def reconcile(ctx: JobContext, pid: int) -> None:
    """Make the store's pool equal to Label Studio's tasks and annotations (LS §4:
    webhooks are never retried). A Label Studio outage is logged, not fatal."""
    assert ctx.gateway is not None
    try:
        info = ctx.gateway.get_project(pid)
        snapshots = list(ctx.gateway.iter_tasks(pid))
    except DataeffError as error:
        log.warning("project %s: reconcile skipped: %s", pid, error)
        return
    changes = apply_snapshot(ctx.store, pid, snapshots, info.label_config)
    log.info("project %s reconciled with Label Studio: %s", pid, changes)


def _confidence_pass(ctx: JobContext, pid: int, mapping: ProjectMapping, scorer: Scorer, *,
                     score_key: str, deadline: float) -> bool:
    """Score tasks lacking a confidence under ``score_key``; ``True`` if time ran out."""
    with ctx.store.read() as conn:
        todo = [t for t in pool.load_tasks(conn, pid) if t.score_key != score_key]
    size = ctx.settings.confidence_batch_size
    for start in range(0, len(todo), size):
        if start and time.monotonic() > deadline:
            log.info("project %s: confidence pass paused, %d tasks left", pid,
                     len(todo) - start)
            return True
        batch = todo[start:start + size]
        examples, unusable = [], {}
        for task in batch:
            try:
                examples.append(example_for_task(mapping, task.task_id, task.data))
            except InvalidInputError as error:
                unusable[task.task_id] = str(error)
        found = scorer.confidence(mapping.spec, examples) if examples else []
        scores: dict[int, float | None] = {int(e.key): float(c.confidence)
                                           for e, c in zip(examples, found, strict=True)}
        scores.update(dict.fromkeys(unusable))
        with ctx.store.write() as conn:
            pool.save_scores(conn, pid, score_key, scores, unusable)
    return False


def _coslow(ctx: JobContext, pid: int, mapping: ProjectMapping, scorer: Scorer, *,
            score_key: str, tasks: dict[int, TaskRow], answers: dict[int, str],
            labeled_low: list[int]) -> CosLow | None:
    """CoS-Low of the labeled low-confidence examples (``None`` below two examples)."""
    wanted = {(t, answer_hash(answers[t])) for t in labeled_low}
    with ctx.store.read() as conn:
        stored = pool.load_sketches(conn, pid, score_key, wanted)
    missing = sorted(wanted - stored.keys())
    size = ctx.settings.confidence_batch_size
    for start in range(0, len(missing), size):
        batch = missing[start:start + size]
        examples = [example_for_task(mapping, t, tasks[t].data, answers[t]) for t, _ in batch]
        vectors = scorer.gradient_sketches(mapping.spec, examples)
        new = {key: vectors[i] for i, key in enumerate(batch)}
        with ctx.store.write() as conn:
            pool.save_sketches(conn, pid, score_key, new)
        stored.update(new)
    with ctx.store.write() as conn:
        pool.prune_sketches(conn, pid, {(t, answer_hash(a)) for t, a in answers.items()})
    if len(stored) < 2:
        return None
    dim = int(next(iter(stored.values())).shape[0])
    return GradientBank.from_rows(dim, ((str(task_id), vector)
                                        for (task_id, _), vector in sorted(stored.items()))
                                  ).coslow()


def _save_estimate(store: Store, pid: int, body: dict[str, Any]) -> int:
    """Insert the estimate when it differs from the latest one; its id either way."""
    with store.write() as conn:
        latest = projects.estimate_rows(conn, pid, 1)
        if latest and latest[0].body == body:
            return latest[0].id
        estimate_id = projects.insert_estimate(conn, pid, body)
    log.info("project %s: estimate %s published: %s (%s)", pid, estimate_id, body["verdict"],
             body["message"])
    return estimate_id
