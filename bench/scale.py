"""Re-estimation job throughput with 1 vs 2 `dataeff worker` processes (RQ on Redis, store on
PostgreSQL, CPU), printed as a ratio.

Each configuration gets a fresh PostgreSQL schema and Redis queue name. A real `dataeff serve`
receives, for each of N projects, /setup, one TASKS_CREATED event and M ANNOTATION_CREATED
events while no worker runs, so exactly one coalesced job per project waits in the queue.
Then the workers start together, and the clock runs from the first job taking its lease to
the last estimate written (both read from the store): jobs/s = N / that time. Worker start-up
(imports, model load) is outside the clock; the gap between the workers' first jobs is
reported as ``start_skew_s``.

Scorer (``--scorer auto``): the embedded SmolLM2-135M when ``dataeff.estimator.load_scorer``
exists and the model is prepared in DATAEFF_CACHE_DIR (one torch thread per worker), else the
deterministic numpy fake made CPU-bound (``--work`` 256x256 matmuls per example, one BLAS
thread per worker). The machine's load average is printed: on a shared machine the ratio is
a lower bound of what two idle cores give. A second pair of runs uses a device-bound
stand-in (the fake sleeping ``--sleep-ms`` per example, as a worker waiting on its own GPU
does): its ratio isolates the queue, leases and store from CPU contention.

Usage: python bench/scale.py [--projects 8] [--tasks 24] [--annotations 12] [--scorer auto]
Prints one JSON object, then a table.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "tests" / "integration"), str(ROOT / "tests" / "service"),
                str(ROOT / "backend")]

from lsdata import XML, annotation, annotation_event, task_text  # noqa: E402
from scale_cluster import Cluster, cluster_env, pg_schema, redis_namespace  # noqa: E402

from dataeff.service.store import Store, events, leases, projects  # noqa: E402

SMOLLM2_DIR = "models/SmolLM2-135M-Instruct"


def _scorer_env(choice: str, work: int) -> tuple[str, dict[str, str]]:
    """The scorer the worker processes load, and their settings for it."""
    cache = Path(os.environ.get("DATAEFF_CACHE_DIR", str(ROOT / ".cache" / "dataeff")))
    real = (hasattr(importlib.import_module("dataeff.estimator"), "load_scorer")
            and (cache / SMOLLM2_DIR).is_dir())
    if choice == "smollm2" and not real:
        raise SystemExit("--scorer smollm2: needs dataeff.estimator.load_scorer and a prepared "
                         f"model in {cache} (dataeff model prepare)")
    one_thread = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                  "DATAEFF_TORCH_THREADS": "1"}
    if real and choice != "fake":
        return "smollm2-135m (embedded, CPU)", {
            **one_thread, "DATAEFF_SCORER_FACTORY": "dataeff.estimator:load_scorer",
            "DATAEFF_DEVICE": "cpu", "DATAEFF_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1"}
    return f"numpy fake, {work} matmuls/example (CPU-bound)", {
        **one_thread, "SCALE_SCORER_WORK": str(work)}


def _sleep_env(sleep_ms: float) -> tuple[str, dict[str, str]]:
    return (f"device-bound stand-in, {sleep_ms:g} ms/example",
            {"SCALE_SCORER_DELAY_S": str(sleep_ms / 1000.0)})


def _project_events(pid: int, n_tasks: int, n_annotations: int) -> list[dict[str, Any]]:
    base = 1000 * pid
    tasks = [{"id": base + t, "project": pid, "data": {"text": task_text(base + t)}}
             for t in range(n_tasks)]
    out: list[dict[str, Any]] = [{"action": "TASKS_CREATED", "tasks": tasks,
                                  "project": {"id": pid, "label_config": XML}}]
    for i in range(n_annotations):
        body = annotation_event(annotation(base + 500 + i, base + (i * 7) % n_tasks,
                                           ["yes", "no"][(i + pid) % 2], stamp=i))
        body["project"]["id"] = body["task"]["project"] = body["annotation"]["project"] = pid
        out.append(body)
    return out


def _wait_processed(store: Store, pids: list[int], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with store.read() as conn:
            rows = {r.project_id: r for r in leases.rows(conn)}
            busy = any(events.has_pending(conn, p) for p in pids)
        if not busy and all(p in rows and rows[p].expires_at is None for p in pids):
            return
        time.sleep(0.2)
    raise SystemExit(f"bench: projects not processed within {timeout_s} s")


def _run(n_workers: int, args: argparse.Namespace, scorer_env: dict[str, str]) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"dataeff-bench-scale-{n_workers}-"))
    pids = list(range(1, args.projects + 1))
    params = {"min_examples": 4, "low_confidence_fraction": 0.25}
    with pg_schema() as db_url, redis_namespace() as queue_name:
        env = cluster_env(db_url, queue_name, DATAEFF_LOG_LEVEL="WARNING",
                          DATAEFF_LEASE_TTL_S="60", DATAEFF_LEASE_HEARTBEAT_S="10",
                          DATAEFF_SWEEP_INTERVAL_S="5", **scorer_env)
        cluster = Cluster(work, env, n_workers)
        store = Store(db_url)
        try:
            cluster.web.start()
            sent = 0
            for pid in pids:
                status, body = cluster.web.post("/setup", {"project": f"{pid}.1",
                                                           "schema": XML, "extra_params": params})
                assert status == 200, body
                for event in _project_events(pid, args.tasks, args.annotations):
                    status, body = cluster.web.post("/webhook", event)
                    assert status == 202, body
                    sent += 1
            queued = cluster.web.get_text("/metrics")
            for worker in cluster.workers:
                worker.launch()
            _wait_processed(store, pids, args.timeout)
            with store.read() as conn:
                rows = [r for r in leases.rows(conn) if r.project_id in pids]
                written = [projects.estimate_rows(conn, p, 1)[0].created_at for p in pids]
        finally:
            cluster.stop()
            store.dispose()
    names = sorted({r.owner.split("/", 1)[0] for r in rows})
    firsts = sorted(min(r.acquired_at for r in rows if r.owner.startswith(n + "/"))
                    for n in names)
    seconds = max(written) - min(r.acquired_at for r in rows)
    jobs = sum(r.runs for r in rows)
    return {"workers": n_workers, "workers_used": len(names), "projects": len(pids),
            "events": sent, "queued_before_start": f"dataeff_queue_depth {len(pids)}" in queued,
            "jobs": jobs, "seconds": round(seconds, 3),
            "jobs_per_s": round(jobs / seconds, 3),
            "events_per_s": round(sent / seconds, 1),
            "start_skew_s": round(firsts[-1] - firsts[0], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=8)
    parser.add_argument("--tasks", type=int, default=24, help="tasks per project")
    parser.add_argument("--annotations", type=int, default=12, help="annotations per project")
    parser.add_argument("--scorer", choices=("auto", "fake", "smollm2"), default="auto")
    parser.add_argument("--work", type=int, default=30, help="fake scorer: matmuls/example")
    parser.add_argument("--sleep-ms", type=float, default=40.0,
                        help="device-bound stand-in: ms per example (0: skip those runs)")
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args()
    scorers = [_scorer_env(args.scorer, args.work)]
    if args.sleep_ms > 0:
        scorers.append(_sleep_env(args.sleep_ms))
    load_before = os.getloadavg()
    results = []
    for scorer, scorer_env in scorers:
        one, two = _run(1, args, scorer_env), _run(2, args, scorer_env)
        results.append({"scorer": scorer, "one_worker": one, "two_workers": two,
                        "two_over_one": round(two["jobs_per_s"] / one["jobs_per_s"], 2)})
    load_after = os.getloadavg()
    report = {"benchmark": "scale_workers", "cpus": os.cpu_count(),
              "loadavg_before": [round(x, 2) for x in load_before],
              "loadavg_after": [round(x, 2) for x in load_after],
              "projects": args.projects, "tasks_per_project": args.tasks,
              "annotations_per_project": args.annotations, "results": results}
    print(json.dumps(report))
    cols = ("workers", "projects", "events", "jobs", "seconds", "jobs_per_s", "events_per_s",
            "start_skew_s")
    print("  ".join(f"{c:>12}" for c in cols))
    for result in results:
        print(f"-- {result['scorer']}")
        for row in (result["one_worker"], result["two_workers"]):
            print("  ".join(f"{row[c]!s:>12}" for c in cols))
        print(f"{'2 / 1':>12}  jobs/s ratio {result['two_over_one']}")
    print(f"{os.cpu_count()} CPUs, load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after (1-minute)")


if __name__ == "__main__":
    main()
