"""Scale-out on the real PostgreSQL and Redis: one `dataeff serve` and two `dataeff worker`
subprocesses (own schema, own queue name). A burst of annotations across 5 projects is
fully processed with coalesced jobs; `kill -9` of a worker mid-job leaves its project to the
other worker once the lease lapses; every estimate equals the one computed from scratch.
Missing PostgreSQL or Redis fails the test with a clear message (CI=true or not)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scale_cluster import (
    Cluster,
    ServiceMissing,
    WorkerProcess,
    cluster_env,
    pg_schema,
    redis_namespace,
)

from dataeff.service.store import Store, events, leases

pytestmark = pytest.mark.integration

from lsdata import XML, annotation, annotation_event, task_text  # noqa: E402  (scale_cluster put tests/service on the path)

from dataeff.estimator.fake import FakeScorer  # noqa: E402
from dataeff.service.app import create_app  # noqa: E402
from dataeff.settings import Settings  # noqa: E402

PARAMS = {"min_examples": 4, "low_confidence_fraction": 0.25}
COMPARED = ("counts", "coslow", "coslow_interval", "examples_needed", "examples_needed_interval",
            "verdict", "message", "curve", "auc", "auc_interval")
SCORER_DELAY_S = 0.04       # per example: a project's first job scores 40 tasks (~1.6 s)
COALESCE_S = 0.5            # > the time to post one project's 16 events (~0.3 s)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Store]]:
    work = tmp_path_factory.mktemp("scale")
    try:
        with pg_schema() as db_url, redis_namespace() as queue_name:
            env = cluster_env(db_url, queue_name, SCALE_SCORER_DELAY_S=str(SCORER_DELAY_S),
                              SCALE_SCORER_LOG=str(work / "model-loads.log"),
                              DATAEFF_COALESCE_S=str(COALESCE_S))
            running = Cluster(work, env, n_workers=2)
            store = Store(db_url)
            try:
                yield running.start(), store
            except BaseException:
                print(running.logs())
                raise
            finally:
                running.stop()
                store.dispose()
    except ServiceMissing as error:
        pytest.fail(str(error))


def _in_project(body: dict[str, Any], pid: int) -> dict[str, Any]:
    body["project"]["id"] = pid
    body["task"]["project"] = pid
    body["annotation"]["project"] = pid
    return body


def _events(pid: int) -> list[dict[str, Any]]:
    """40 tasks, 12 annotations, one update and one deletion for project ``pid``."""
    base = 1000 * pid
    tasks = [{"id": base + t, "project": pid, "data": {"text": task_text(base + t)}}
             for t in range(40)]
    out = [{"action": "TASKS_CREATED", "tasks": tasks, "project": {"id": pid,
                                                                    "label_config": XML}}]
    for i in range(12):
        ann = annotation(base + 500 + i, base + 3 * i, ["yes", "no"][(i + pid) % 2], stamp=i)
        out.append(_in_project(annotation_event(ann), pid))
    update = annotation(base + 500, base, "maybe", stamp=59)
    out.append(_in_project(annotation_event(update, "ANNOTATION_UPDATED"), pid))
    out.append({"action": "ANNOTATIONS_DELETED", "annotations": [{"id": base + 501}],
                "project": {"id": pid}})
    return out


def _setup(web: Any, pid: int) -> None:
    status, body = web.post("/setup", {"project": f"{pid}.1", "schema": XML,
                                       "extra_params": PARAMS})
    assert status == 200, body


def _post(web: Any, body: dict[str, Any]) -> None:
    status, answer = web.post("/webhook", body)
    assert status == 202, answer


def _burst(web: Any, pids: list[int]) -> int:
    """/setup each project, then post their events interleaved; returns events stored."""
    for pid in pids:
        _setup(web, pid)
    for round_ in zip(*(_events(pid) for pid in pids), strict=True):
        for body in round_:
            _post(web, body)
    return len(pids) * (1 + len(_events(pids[0])))    # each /setup stores a SETUP event


def _wait_done(store: Store, pids: list[int], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with store.read() as conn:
            pending = any(events.has_pending(conn, pid) for pid in pids)
            rows = {r.project_id: r for r in leases.rows(conn)}
        if not pending and all(pid in rows and rows[pid].expires_at is None for pid in pids):
            return
        time.sleep(0.1)
    raise AssertionError(f"projects {pids} not processed in {timeout_s} s")


def _from_scratch(tmp: Path, pids: list[int]) -> dict[int, dict[str, Any]]:
    """Each project's estimate from its events alone, in one process, inline queue."""
    settings = Settings.load(env={}, overrides={"data_dir": str(tmp), "queue": "inline"})
    app = create_app(settings, scorer_factory=lambda *a, **k: FakeScorer(),
                     gateway_factory=lambda s: None)
    client = app.test_client()
    try:
        for pid in pids:
            client.post("/setup", json={"project": f"{pid}.1", "schema": XML,
                                        "extra_params": PARAMS})
            for body in _events(pid):
                assert client.post("/webhook", json=body).status_code == 202
        app.extensions["dataeff"].wait_idle()
        return {pid: client.get(f"/api/projects/{pid}/estimate").json for pid in pids}
    finally:
        app.extensions["dataeff"].stop()


def _assert_from_scratch(web: Any, tmp: Path, pids: list[int]) -> None:
    scratch = _from_scratch(tmp, pids)
    for pid in pids:
        live = web.get(f"/api/projects/{pid}/estimate")
        assert live["state"] == "idle" and live["error"] is None, live
        assert live["counts"]["annotated"] == 11 and live["counts"]["tasks"] == 40
        for key in COMPARED:
            assert live[key] == scratch[pid][key], (pid, key)


def test_a_burst_across_5_projects_is_processed_by_two_workers_in_few_jobs(
        cluster: tuple[Cluster, Store], tmp_path: Path) -> None:
    running, store = cluster
    pids = [1, 2, 3, 4, 5]
    sent = _burst(running.web, pids)
    _wait_done(store, pids)
    with store.read() as conn:
        counted = events.count_events(conn)
        runs = {r.project_id: r.runs for r in leases.rows(conn) if r.project_id in pids}
    assert counted == {"total": sent, "pending": 0}          # every event kept and applied
    # coalesced: 16 events per project, a few jobs each (a job drains all pending events)
    assert all(1 <= n <= 5 for n in runs.values()), runs
    assert sum(runs.values()) * 4 <= sent, (runs, sent)
    _assert_from_scratch(running.web, tmp_path, pids)
    # the model is loaded once per worker, before its first job, and never by the web
    loads = (running.work_dir / "model-loads.log").read_text().split()
    assert sorted(loads) == sorted(str(w.proc.pid) for w in running.workers if w.proc)
    assert running.web.get("/health")["models_loaded"] == []
    assert "dataeff_events_pending 0" in running.web.get_text("/metrics")


def _kill_mid_job(victim: WorkerProcess, store: Store, timeout_s: float = 60.0) -> int:
    """kill -9 ``victim`` while it runs a project's first (long: 40 tasks to score) job, after
    that job marked all the project's events processed; returns the project."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with store.read() as conn:
            held = [r.project_id for r in leases.rows(conn)
                    if r.expires_at is not None and r.runs == 1
                    and r.owner.startswith(victim.name + "/")
                    and not events.has_pending(conn, r.project_id)]
        if held:
            victim.kill()
            return held[0]
        time.sleep(0.01)
    raise AssertionError(f"{victim.name} never held a first-job lease in {timeout_s} s")


def test_kill_9_of_a_worker_mid_job_leaves_its_project_to_the_other(
        cluster: tuple[Cluster, Store], tmp_path: Path) -> None:
    running, store = cluster
    victim, survivor = running.workers
    pids = [6, 7, 8, 9, 10]
    for pid in pids:             # project by project: each first job gets all its events
        _setup(running.web, pid)
        for body in _events(pid):
            _post(running.web, body)
    killed = _kill_mid_job(victim, store)
    assert victim.proc is not None and victim.proc.returncode == -9
    with store.read() as conn:
        orphan = leases.get(conn, killed)
    # it died holding the lease, with every event of its project marked processed and its
    # estimate unwritten: only the lapsed lease says the project needs a job
    assert orphan is not None and orphan.expires_at is not None
    assert orphan.owner.startswith(victim.name + "/")
    _wait_done(store, pids)
    with store.read() as conn:
        recovered = leases.get(conn, killed)
        assert events.count_events(conn)["pending"] == 0
    assert recovered is not None and recovered.takeovers >= 1
    assert recovered.owner.startswith(survivor.name + "/")
    assert survivor.proc is not None and survivor.proc.poll() is None
    _assert_from_scratch(running.web, tmp_path, pids)
    assert survivor.stop() == 0                   # SIGTERM: RQ's warm shutdown, exit 0
