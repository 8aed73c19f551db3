"""The embedded worker: per-project coalescing, one pending job per project, shutdown."""

from __future__ import annotations

import threading
import time

from fakes import SlowFakeScorer
from lsdata import AppFactory, annotation, annotation_event

from dataeff.service.job import JobResult
from dataeff.service.queue import ThreadQueue
from dataeff.settings import Settings


def test_a_burst_of_50_annotations_runs_at_most_two_jobs(make_app: AppFactory,
                                                        settings: Settings) -> None:
    app = make_app(settings.replace(queue="thread", coalesce_s=0.3, preload_model=False),
                   score=SlowFakeScorer(delay_s=0.002))
    client, runtime = app.test_client(), app.extensions["dataeff"]
    assert client.post("/setup", json={"project": "1.1"}).status_code == 200
    assert runtime.wait_idle(30)
    jobs_before = runtime.metrics.jobs_run()
    for i in range(50):
        response = client.post("/webhook", json=annotation_event(
            annotation(100 + i, 1 + i % 40, "yes", stamp=i)))
        assert response.status_code == 202
    assert runtime.wait_idle(30)
    assert 1 <= runtime.metrics.jobs_run() - jobs_before <= 2
    body = client.get("/api/projects/1/estimate").json
    assert body is not None and body["counts"]["annotated"] == 40
    assert body["state"] == "idle"


def test_enqueues_during_a_job_make_exactly_one_more_job() -> None:
    started, release = threading.Event(), threading.Event()
    runs: list[int] = []

    def job(project_id: int) -> JobResult:
        runs.append(project_id)
        if len(runs) == 1:
            started.set()
            release.wait(5)
        return JobResult(project_id, "ok")

    queue = ThreadQueue(job, coalesce_s=0.0)
    queue.start()
    queue.enqueue(1)
    assert started.wait(5)
    for _ in range(20):
        queue.enqueue(1)
    queue.enqueue(2)
    assert queue.depth() == 2
    release.set()
    assert queue.wait_idle(5)
    queue.stop()
    assert runs == [1, 1, 2]


def test_a_job_with_work_left_is_requeued() -> None:
    runs: list[int] = []

    def job(project_id: int) -> JobResult:
        runs.append(project_id)
        return JobResult(project_id, "ok", again=len(runs) < 3)

    queue = ThreadQueue(job, coalesce_s=0.0)
    queue.start()
    queue.enqueue(7)
    assert queue.wait_idle(5)
    queue.stop()
    assert runs == [7, 7, 7]


def test_start_delay_and_stop_leave_pending_work_unrun() -> None:
    runs: list[int] = []
    queue = ThreadQueue(lambda p: runs.append(p) or JobResult(p, "ok"),  # type: ignore[func-returns-value]
                        start_delay_s=60.0)
    queue.start()
    queue.enqueue(1)
    time.sleep(0.1)
    began = time.monotonic()
    queue.stop(5)
    assert time.monotonic() - began < 2 and runs == []
