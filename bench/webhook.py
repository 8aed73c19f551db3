"""Webhook acknowledgement latency of a real `dataeff serve` on loopback, with and without a
CPU-heavy re-estimation job running (target: p99 <= 20 ms while a job runs; 0 events lost).

Two server processes, same load: 50 client threads (keep-alive connections) send 5,000
distinct ANNOTATION_CREATED events.
* ``idle``: the worker never starts (``runner_start_delay_s``), so no job competes.
* ``busy``: a 600-task project is imported first; its confidence pass runs on a numpy
  scorer made CPU-heavy (tanh(M·Mᵀ) on 256x256 per example, one BLAS thread, as
  ``torch_threads`` limits torch) and the load is sent while that job runs.
Events stored are counted in the SQLite files themselves (the ``events`` table and the
webhook inbox); lost = sent - stored.

Usage: python bench/webhook.py [--events 5000] [--clients 50] [--rate 100] [--work 12]
Prints one JSON object, then a table.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "tests" / "integration"), str(ROOT / "tests" / "service"),
                str(ROOT / "backend")]

from lsdata import XML, annotation, annotation_event  # noqa: E402
from service_process import ServiceProcess  # noqa: E402

from dataeff.service.store.inbox import inbox_path  # noqa: E402

N_TASKS = 600


def heavy_scorer(model: str | None = None, **_: Any) -> Any:
    """Scorer factory for the server process (``DATAEFF_SCORER_FACTORY=webhook:heavy_scorer``)."""
    import os

    from fakes import SlowFakeScorer

    return SlowFakeScorer(work=int(os.environ.get("BENCH_WORK", "12")))


def _post_all(url_port: int, bodies: list[bytes], clients: int, rate: float) -> list[float]:
    """Send ``bodies`` from ``clients`` threads; returns per-request latency in ms.

    ``rate`` > 0: open loop, the clients together send ``rate`` events/s on a fixed
    schedule (annotators submitting); 0: closed loop, each client sends as fast as answers
    come back (saturation: latency is then mostly queueing behind the other clients).
    """
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    chunks = [bodies[i::clients] for i in range(clients)]
    start = threading.Barrier(clients)

    def run(index: int, chunk: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", url_port, timeout=30)
        mine: list[float] = []
        start.wait()
        t0 = time.perf_counter() + (index / rate if rate else 0.0)
        for k, body in enumerate(chunk):
            if rate:
                delay = t0 + k * clients / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            began = time.perf_counter()
            conn.request("POST", "/webhook", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - began) * 1000.0)
            if response.status != 202:
                with lock:
                    errors.append(f"HTTP {response.status}")
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(chunks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, e.g. {errors[0]}")
    return latencies


def _events(n: int) -> list[bytes]:
    return [json.dumps(annotation_event(annotation(10_000 + i, 1 + i % N_TASKS,
                                                   ["yes", "no", "maybe"][i % 3],
                                                   stamp=i % 3600))).encode()
            for i in range(n)]


def _stored(data_dir: Path) -> int:
    """Distinct events stored: in the ``events`` table or still in the webhook inbox."""
    keys: set[str] = set()
    main = data_dir / "dataeff.sqlite3"
    for path, table in ((main, "events"), (inbox_path(main), "inbox")):
        with sqlite3.connect(path) as db:
            keys.update(k for (k,) in db.execute(
                f"SELECT delivery_key FROM {table} WHERE action = 'ANNOTATION_CREATED'"))
    return len(keys)


def _jobs(service: ServiceProcess) -> int:
    text = service.get_text("/metrics")
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in text.splitlines()
               if line.startswith("dataeff_jobs_total{"))


def _phase(name: str, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix=f"dataeff-bench-{name}-"))
    service = ServiceProcess(data, {
        "DATAEFF_SCORER_FACTORY": "webhook:heavy_scorer", "BENCH_WORK": str(args.work),
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "DATAEFF_LOG_LEVEL": "WARNING",
        "DATAEFF_HTTP_THREADS": str(args.threads), **env}, extra_path=HERE).start()
    try:
        service.post("/setup", {"project": "1.1", "schema": XML})
        tasks = [{"id": t, "data": {"text": f"Question {t}? -- answer {t}"}}
                 for t in range(1, N_TASKS + 1)]
        service.post("/webhook", {"action": "TASKS_CREATED", "tasks": tasks,
                                  "project": {"id": 1}})
        running_during_load = None
        if name == "busy":
            service.wait_estimate(1, lambda b: b["state"] == "running", timeout_s=60)
        bodies = _events(args.events)
        jobs_before = _jobs(service)
        began = time.perf_counter()
        latencies = _post_all(service.port, bodies, args.clients, args.rate)
        seconds = time.perf_counter() - began
        if name == "busy":
            running_during_load = service.get("/api/projects/1/estimate")["state"] == "running"
            service.wait_estimate(1, lambda b: b["state"] == "idle", timeout_s=600)
        stored = _stored(data)
        jobs = _jobs(service) - jobs_before
    finally:
        service.stop()
    ordered = sorted(latencies)
    return {"phase": name, "events_sent": len(bodies), "events_stored": stored,
            "events_lost": len(bodies) - stored, "clients": args.clients,
            "p50_ms": round(statistics.median(ordered), 2),
            "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 2),
            "max_ms": round(ordered[-1], 2), "mean_ms": round(statistics.fmean(ordered), 2),
            "events_per_s": round(len(bodies) / seconds, 1), "jobs_run": jobs,
            "offered_rate": args.rate or "max",
            "job_running_at_end_of_load": running_during_load}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--threads", type=int, default=8, help="server HTTP threads")
    parser.add_argument("--work", type=int, default=12, help="matmuls per scored example")
    parser.add_argument("--rate", type=float, default=100.0,
                        help="events/s from all clients together (0: as fast as possible)")
    args = parser.parse_args()
    idle = _phase("idle", args, {"DATAEFF_RUNNER_START_DELAY_S": "3600"})
    busy = _phase("busy", args, {"DATAEFF_COALESCE_S": "0.5"})
    ratios = {k: round(busy[k] / idle[k], 2) for k in ("p50_ms", "p99_ms", "max_ms")}
    report = {"benchmark": "webhook_ack", "idle": idle, "busy": busy,
              "busy_over_idle": ratios, "target_p99_ms": 20.0,
              "meets_target": busy["p99_ms"] <= 20.0 and busy["events_lost"] == 0}
    print(json.dumps(report))
    cols = ("phase", "p50_ms", "p99_ms", "max_ms", "events_sent", "events_stored",
            "events_lost", "jobs_run", "events_per_s")
    print("  ".join(f"{c:>13}" for c in cols))
    for row in (idle, busy):
        print("  ".join(f"{row[c]!s:>13}" for c in cols))
    print("  ".join(f"{v!s:>13}" for v in ("busy/idle", ratios["p50_ms"], ratios["p99_ms"],
                                           ratios["max_ms"], "", "", "", "", "")))


if __name__ == "__main__":
    main()
