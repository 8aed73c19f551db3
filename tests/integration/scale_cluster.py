"""A real scale-out deployment for tests and bench/scale.py: one `dataeff serve` and N
`dataeff worker` subprocesses on PostgreSQL and Redis, each run in its own PostgreSQL schema
and under its own Redis queue name (both removed afterwards).

Missing services fail with a message naming them (``CI=true`` or not): a skipped test is not
a passing test. Scorer: :func:`make_scorer` (``DATAEFF_SCORER_FACTORY=scale_cluster:make_scorer``),
the deterministic numpy fake (``fakes.SlowFakeScorer``), slowed by ``SCALE_SCORER_DELAY_S``
and ``SCALE_SCORER_WORK`` per example, and logging the pid of every process that builds one
to ``SCALE_SCORER_LOG`` (a model load).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "service")]

from fakes import SlowFakeScorer  # noqa: E402
from service_process import ROOT, SERVICE_TESTS, ChildProcess, ServiceProcess  # noqa: E402

PG_URL = os.environ.get("DATAEFF_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("DATAEFF_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
_WORKER = "from dataeff.cli import main; raise SystemExit(main(['worker']))"


class ServiceMissing(RuntimeError):
    """PostgreSQL or Redis is not reachable (tests turn this into a failure)."""


def make_scorer(model: str | None = None, **_: Any) -> SlowFakeScorer:
    """Scorer factory for the subprocesses (the ``load_scorer`` signature)."""
    log = os.environ.get("SCALE_SCORER_LOG")
    if log:
        with open(log, "a") as out:
            out.write(f"{os.getpid()}\n")
    return SlowFakeScorer(delay_s=float(os.environ.get("SCALE_SCORER_DELAY_S", "0")),
                          work=int(os.environ.get("SCALE_SCORER_WORK", "0")))


@contextmanager
def pg_schema(base_url: str = PG_URL) -> Iterator[str]:
    """A fresh PostgreSQL schema; yields its SQLAlchemy URL, drops it afterwards."""
    from sqlalchemy import create_engine, text

    admin = create_engine(base_url)
    schema = f"dataeff_scale_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:
        admin.dispose()
        raise ServiceMissing(f"PostgreSQL is required and is not reachable at {base_url} "
                             f"({type(error).__name__}: {error}); start it with "
                             "scripts/ensure-services.sh") from None
    try:
        yield f"{base_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def redis_namespace(url: str = REDIS_URL) -> Iterator[str]:
    """A fresh queue name on the Redis at ``url``; deletes every key naming it afterwards."""
    from redis import Redis

    client = Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.ping()
    except Exception as error:
        client.close()
        raise ServiceMissing(f"Redis is required and is not reachable at {url} "
                             f"({type(error).__name__}: {error}); start it with "
                             "scripts/ensure-services.sh") from None
    name = f"dataeff-test-{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        purge_redis(client, name)
        client.close()


def purge_redis(client: Any, name: str) -> int:
    """Delete the keys and set members (RQ's queue and worker registries) that hold ``name``."""
    keys = list(client.scan_iter(match=f"*{name}*", count=1000))
    if keys:
        client.delete(*keys)
    for registry in ("rq:queues", "rq:workers"):
        members = [m for m in client.smembers(registry) if name in m.decode()]
        if members:
            client.srem(registry, *members)
    return len(keys)


class WorkerProcess(ChildProcess):
    """`dataeff worker` as a subprocess; ready once RQ lists it as a worker of the queue."""

    def __init__(self, log_dir: Path, env: dict[str, str], index: int) -> None:
        self.log_path = log_dir / f"worker-{index}.log"
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def name(self) -> str:
        """The worker's name, as in its leases (``dataeff.service.worker.worker_name``)."""
        import socket

        assert self.proc is not None
        return f"{self.env['DATAEFF_QUEUE_NAME']}-{socket.gethostname()}-{self.proc.pid}"

    def launch(self) -> WorkerProcess:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-c", _WORKER], env=self.env,
                                         stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, client: Any, timeout_s: float = 90.0) -> WorkerProcess:
        assert self.proc is not None
        key = f"rq:workers:{self.env['DATAEFF_QUEUE_NAME']}"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dataeff worker exited: {self.log_path.read_text()[-3000:]}")
            if any(m.decode().endswith(self.name) for m in client.smembers(key)):
                return self
            time.sleep(0.1)
        raise RuntimeError(f"dataeff worker not registered in {timeout_s} s: "
                           f"{self.log_path.read_text()[-3000:]}")


class Cluster:
    """One web process and ``n_workers`` workers sharing ``env`` (DATAEFF_* settings)."""

    def __init__(self, work_dir: Path, env: dict[str, str], n_workers: int) -> None:
        from redis import Redis

        self.work_dir = work_dir
        self.web = ServiceProcess(work_dir, env, extra_path=HERE)
        worker_env = {**self.web.env}
        worker_env.pop("DATAEFF_PORT", None)
        self.workers = [WorkerProcess(work_dir, worker_env, i) for i in range(n_workers)]
        self.redis = Redis.from_url(env["DATAEFF_QUEUE"])

    def start(self) -> Cluster:
        for worker in self.workers:
            worker.launch()
        self.web.start()
        for worker in self.workers:
            worker.wait_ready(self.redis)
        return self

    def stop(self) -> None:
        try:
            for worker in self.workers:
                if worker.proc is not None:
                    worker.stop()
            if self.web.proc is not None:
                self.web.stop()
        finally:
            self.redis.close()

    def logs(self) -> str:
        paths = [self.web.log_path, *(w.log_path for w in self.workers)]
        return "\n".join(f"--- {p.name}\n{p.read_text()[-4000:]}" for p in paths if p.exists())


def cluster_env(db_url: str, queue_name: str, **extra: str) -> dict[str, str]:
    """Settings for a test cluster: short lease, heartbeat and sweep intervals."""
    return {"DATAEFF_DB_URL": db_url, "DATAEFF_QUEUE": REDIS_URL,
            "DATAEFF_QUEUE_NAME": queue_name,
            "DATAEFF_SCORER_FACTORY": "scale_cluster:make_scorer",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "backend"), str(SERVICE_TESTS),
                                           str(HERE)]),
            "DATAEFF_COALESCE_S": "0.2", "DATAEFF_LEASE_TTL_S": "2",
            "DATAEFF_LEASE_HEARTBEAT_S": "0.4", "DATAEFF_SWEEP_INTERVAL_S": "0.5",
            "DATAEFF_TORCH_THREADS": "1", "DATAEFF_HTTP_THREADS": "4", **extra}
