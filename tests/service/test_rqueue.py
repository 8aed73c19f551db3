"""The RQ queue against the real Redis (DATAEFF_TEST_REDIS_URL, default the local one), each
test under its own queue name: one waiting job per project, JSON payloads, claim/repair, the
leased job's busy and re-check paths, the sweeper, and `dataeff worker` run in-process in
burst mode. A missing Redis fails with a clear message, never skips."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from rq.utils import utcformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from lsdata import XML, annotation, annotation_event, task_text
from scale_cluster import REDIS_URL, ServiceMissing, redis_namespace

from dataeff.errors import UnavailableError
from dataeff.estimator.fake import FakeScorer
from dataeff.estimator.scorer import Confidence
from dataeff.estimator.spec import Example, TaskSpec
from dataeff.service import worker
from dataeff.service.leased import run_leased
from dataeff.service.rqueue import JOB_FUNCTION, RedisQueue, connect
from dataeff.service.runtime import Runtime
from dataeff.service.store import events, leases
from dataeff.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def queue_name() -> Iterator[str]:
    try:
        with redis_namespace() as name:
            yield name
    except ServiceMissing as error:
        pytest.fail(str(error))


@pytest.fixture
def settings(tmp_path: Path, queue_name: str) -> Settings:
    return Settings.load(env={}, overrides={
        "data_dir": str(tmp_path), "queue": REDIS_URL, "queue_name": queue_name,
        "coalesce_s": 0, "lease_ttl_s": 1.0, "lease_heartbeat_s": 0.2,
        "sweep_interval_s": 0.2, "reconcile_interval_s": 0})


class HookedScorer(FakeScorer):
    """The numpy fake, calling ``hook`` (when set) before each confidence pass."""

    hook: Callable[[], None] | None = None

    def confidence(self, spec: TaskSpec, examples: Sequence[Example]) -> list[Confidence]:
        if self.hook is not None:
            self.hook()
        return super().confidence(spec, examples)


@pytest.fixture
def scorer() -> HookedScorer:
    return HookedScorer()


@pytest.fixture
def runtime(settings: Settings, scorer: HookedScorer) -> Iterator[Runtime]:
    rt = Runtime(settings, scorer_factory=lambda *a, **k: scorer,
                 gateway_factory=lambda s: None)
    rt.store.migrate()
    yield rt
    rt.stop(5)


def _queue(rt: Runtime) -> RedisQueue:
    assert isinstance(rt.queue, RedisQueue)
    return rt.queue


def _marker(q: RedisQueue, pid: int) -> str:
    value = q.redis.get(q.marker_key(pid))
    assert isinstance(value, bytes)
    return value.decode()


def _feed(rt: Runtime, pid: int, n_annotations: int = 4) -> None:
    rt.setup_project(pid, XML, None)
    tasks = [{"id": t, "data": {"text": task_text(t)}} for t in range(1, 11)]
    rt.accept(pid, "TASKS_CREATED", f"T{pid}", json.dumps(
        {"action": "TASKS_CREATED", "tasks": tasks, "project": {"id": pid}}))
    for i in range(n_annotations):
        body = annotation_event(annotation(100 + i, 1 + i, "yes", stamp=i))
        rt.accept(pid, "ANNOTATION_CREATED", f"A{pid}-{i}", json.dumps(body))


def test_one_waiting_job_per_project_with_a_json_payload(runtime: Runtime) -> None:
    q = _queue(runtime)
    assert q.submit(1) and not q.submit(1)
    q.enqueue(1)                                       # the webhook path: a no-op too
    assert q.submit(2)
    assert q.depth() == 2 and q.is_pending(1) and not q.is_pending(3)
    raw = q.redis.hgetall(f"rq:job:{_marker(q, 1)}")
    # RQ zlib-compresses the serialized call: JSON, not pickle
    assert json.loads(zlib.decompress(raw[b"data"])) == [JOB_FUNCTION, None, [1], {}]
    assert raw[b"result_ttl"] == b"0"


def test_a_started_job_frees_its_project_for_one_follow_up(runtime: Runtime) -> None:
    q = _queue(runtime)
    assert q.submit(1)
    first = _marker(q, 1)
    assert not q.claim(1, "someone-else") and q.is_pending(1)
    assert q.claim(1, first) and not q.is_pending(1)
    assert q.submit(1) and not q.submit(1)
    assert q.depth() == 2 and _marker(q, 1) != first


def test_repair_replaces_a_marker_whose_job_is_not_waiting(runtime: Runtime) -> None:
    q = _queue(runtime)
    q.redis.set(q.marker_key(1), "dataeff-lost-job")   # its enqueue died half-way
    assert not q.submit(1) and q.depth() == 0
    assert q.repair(1) and q.depth() == 1
    assert not q.repair(1)                             # a job waits now
    assert q.job_status(_marker(q, 1)) == "queued"


def test_repair_keeps_a_just_started_job_and_asks_the_store_last(runtime: Runtime) -> None:
    q = _queue(runtime)
    assert q.submit(1)
    job_id = _marker(q, 1)
    started = dt.datetime.now(dt.UTC)
    q.redis.hset(f"rq:job:{job_id}", mapping={"status": "started",
                                              "started_at": utcformat(started)})
    assert not q.repair(1, started_grace_s=5.0)        # dequeued: takes its lease now
    assert q.depth() == 1 and _marker(q, 1) == job_id
    long_ago = started - dt.timedelta(seconds=30)
    q.redis.hset(f"rq:job:{job_id}", "started_at", utcformat(long_ago))
    assert not q.repair(1, still_needed=lambda: False, started_grace_s=5.0)
    assert _marker(q, 1) == job_id                     # the store says: nothing to do
    assert q.repair(1, still_needed=lambda: True, started_grace_s=5.0)   # died before lease
    assert _marker(q, 1) != job_id and q.depth() == 2


def test_redis_down_loses_nothing_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    q = RedisQueue(connect("redis://127.0.0.1:1/0", socket_timeout_s=1.0), name="down")
    with caplog.at_level(logging.WARNING, "dataeff.service.rqueue"):
        q.enqueue(5)                                   # webhook still acknowledged
    assert "the sweeper will enqueue it" in caplog.text
    assert q.depth() == 0 and not q.is_pending(5)
    with pytest.raises(UnavailableError, match="Redis queue 'down' is unreachable"):
        q.ping()


def test_a_job_finding_the_lease_taken_returns_and_the_holder_rechecks(
        runtime: Runtime, scorer: HookedScorer) -> None:
    q = _queue(runtime)
    _feed(runtime, 1)
    job_id = _marker(q, 1)
    with runtime.store.write() as conn:
        assert leases.acquire(conn, 1, "other-worker", 30.0)
    busy = run_leased(runtime.context, q, 1, job_id=job_id, owner="me")
    assert busy.outcome == "busy" and not q.is_pending(1)      # claimed, nothing run
    runtime.store.drain_inbox()
    with runtime.store.read() as conn:
        assert events.has_pending(conn, 1)
    with runtime.store.write() as conn:
        assert leases.release(conn, 1, "other-worker")
    # the holder's job runs; an event stored meanwhile whose own job found the lease taken
    # (so: stored without an enqueue) is re-queued by the holder after its release
    scorer.hook = lambda: runtime.store.insert_event(1, "ANNOTATION_CREATED", "late", json.dumps(
        annotation_event(annotation(200, 9, "no", stamp=50)))) and None
    done = run_leased(runtime.context, q, 1, job_id="direct", owner="holder")
    assert done.outcome == "ok" and done.requeued and q.is_pending(1)
    with runtime.store.read() as conn:
        row = leases.get(conn, 1)
        assert row is not None and row.expires_at is None and row.owner == "holder"


def test_the_sweeper_requeues_lapsed_and_unleased_work_once(runtime: Runtime) -> None:
    q = _queue(runtime)
    sweeper = runtime.sweeper
    assert sweeper is not None
    for pid in (1, 2):
        runtime.store.insert_event(pid, "ANNOTATION_CREATED", f"k{pid}", "{}")
    with runtime.store.write() as conn:
        assert leases.acquire(conn, 2, "live", 30.0)
        assert leases.acquire(conn, 3, "killed-mid-job", 0.05)
    time.sleep(0.1)
    assert sweeper.sweep(grace_s=0.0) == [1, 3]
    assert sweeper.sweep(grace_s=0.0) == []              # jobs wait: nothing more
    assert q.depth() == 2 and not q.is_pending(2)


def test_worker_runs_jobs_in_process_with_one_model_load(runtime: Runtime,
                                                         settings: Settings) -> None:
    for pid in (1, 2):
        _feed(runtime, pid)
    assert _queue(runtime).depth() == 2
    loads: list[str | None] = []

    def factory(model: str | None = None, **_: Any) -> FakeScorer:
        loads.append(model)
        return FakeScorer()

    assert worker.run_worker(settings, burst=True, scorer_factory=factory) == 0
    assert loads == [None]                      # preloaded once, kept for both jobs
    assert runtime.scorers.loaded() == []       # the enqueuing side never loads a model
    assert runtime.wait_idle(5)
    for pid in (1, 2):
        with runtime.store.read() as conn:
            row = leases.get(conn, pid)
            assert row is not None and row.runs == 1 and row.expires_at is None
        assert runtime.state(pid, "idle") == "idle"


def test_perform_rejects_a_payload_that_is_not_a_project_id() -> None:
    for bad in ("1", True, 0, None):
        with pytest.raises(ValueError, match="project id must be a positive integer"):
            worker.perform(bad)  # type: ignore[arg-type]

