"""The service's process-wide parts, wired from one :class:`~dataeff.settings.Settings`:
store, metrics, scorer pool, Label Studio gateway, job context, queue and the reconcile timer.

:meth:`Runtime.start` migrates the store, recovers from a crash (projects left 'running'
become idle; projects with pending events get a job; with Label Studio configured every
known project is reconciled) and starts the worker. The webhook path uses only
:meth:`Runtime.accept` (one INSERT + a wake-up).

With a Redis queue (``DATAEFF_QUEUE=redis://...``) this process only enqueues: `dataeff
worker` processes run the jobs under per-project leases, nothing here loads a model, and a
:class:`~dataeff.service.sweeper.Sweeper` re-enqueues from the store what needs a job (crash
recovery is the sweeper's, since other processes may be mid-job).
"""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dataeff.labelstudio.gateway import LabelStudioGateway, SdkGateway
from dataeff.labelstudio.mapping import config_hash
from dataeff.labelstudio.params import ProjectParams
from dataeff.service.job import JobContext, JobResult, run_job
from dataeff.service.metrics import Metrics
from dataeff.service.queue import InlineQueue, JobQueue, ThreadQueue
from dataeff.service.scorers import ScorerFactory, ScorerPool, import_factory
from dataeff.service.store import Store, events, leases, projects
from dataeff.settings import Settings

if TYPE_CHECKING:
    from dataeff.service.sweeper import Sweeper

log = logging.getLogger(__name__)

GatewayFactory = Callable[[Settings], LabelStudioGateway | None]


def default_gateway(settings: Settings) -> LabelStudioGateway | None:
    """The SDK gateway when ``LABEL_STUDIO_URL`` is set, else ``None`` (no LS writes)."""
    if settings.label_studio_url is None or settings.label_studio_api_key is None:
        return None
    return SdkGateway(settings.label_studio_url, settings.label_studio_api_key,
                      timeout_s=settings.label_studio_timeout_s)


class Runtime:
    """Store + queue + worker of one process."""

    def __init__(self, settings: Settings, *, scorer_factory: ScorerFactory | None = None,
                 gateway_factory: GatewayFactory = default_gateway) -> None:
        self.settings = settings
        self.store = Store(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
        self.metrics = Metrics()
        self.scorers = ScorerPool(scorer_factory or import_factory(settings.scorer_factory),
                                  default_model=settings.model, device=settings.device,
                                  cache_dir=settings.cache_dir,
                                  torch_threads=settings.torch_threads)
        self.gateway = gateway_factory(settings)
        self.context = JobContext(settings, self.store, self.scorers, self.gateway, self.metrics)
        self.queue: JobQueue
        self.sweeper: Sweeper | None = None
        if settings.queue_url is not None:
            from dataeff.service.rqueue import RedisQueue
            from dataeff.service.sweeper import GRACE_MARGIN_S, Sweeper

            redis_queue = RedisQueue.from_settings(settings)
            self.queue = redis_queue
            self.sweeper = Sweeper(self.store, redis_queue, interval_s=settings.sweep_interval_s,
                                   grace_s=settings.coalesce_s + GRACE_MARGIN_S)
        elif settings.queue == "inline":
            self.queue = InlineQueue(self.run_job)
        else:
            self.queue = ThreadQueue(self.run_job, coalesce_s=settings.coalesce_s,
                                     start_delay_s=settings.runner_start_delay_s,
                                     on_start=self._preload if settings.preload_model else None)
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self.started = False

    def run_job(self, project_id: int) -> JobResult:
        return run_job(self.context, project_id)

    # --- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        if self.started:
            return
        if self.settings.db_auto_migrate:
            self.store.migrate()
        if self.sweeper is None:
            self._recover()
        else:
            self._sweep_now()
            self.sweeper.start()
        with self.store.read() as conn:
            known = projects.project_ids(conn)
        if self.gateway is not None and known:
            self.request_reconcile(known, "startup")
        self.queue.start()
        if self.gateway is not None and self.settings.reconcile_interval_s > 0:
            self._timer = threading.Thread(target=self._reconcile_loop, daemon=True,
                                           name="dataeff-reconcile")
            self._timer.start()
        self.started = True
        log.info("dataeff runtime started: store %s, queue %s, Label Studio %s",
                 self.store.engine.url.render_as_string(hide_password=True),
                 self.settings.public()["queue"],
                 self.settings.label_studio_url or "not configured")

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        if self.sweeper is not None:
            self.sweeper.stop()
        self.queue.stop(timeout_s)
        self.store.dispose()
        self.started = False
        log.info("dataeff runtime stopped")

    def _recover(self) -> None:
        """In-process queue: this process is the only runner, so 'running' is stale."""
        self.store.drain_inbox()
        with self.store.write() as conn:
            stale = projects.reset_running(conn)
            pending = events.pending_project_ids(conn)
        if stale:
            log.info("recovered %d project(s) left running by a previous process", stale)
        for pid in pending:
            self.queue.enqueue(pid)
        if pending:
            log.info("queued %d project(s) with events pending from before the start",
                     len(pending))

    def _sweep_now(self) -> None:
        """Redis queue: enqueue what the store says needs a job (Redis may be down: the
        periodic sweep retries)."""
        from redis.exceptions import RedisError

        assert self.sweeper is not None
        try:
            self.sweeper.sweep(grace_s=0.0)
        except RedisError as error:
            log.warning("queue unreachable at start (%s); the sweeper retries every %.0f s",
                        error, self.settings.sweep_interval_s)

    def _preload(self) -> None:
        self.scorers.get(None)
        gc.freeze()          # the model's objects are permanent: see server.tune_for_latency

    def _reconcile_loop(self) -> None:
        while not self._stop.wait(self.settings.reconcile_interval_s):
            with self.store.read() as conn:
                known = projects.project_ids(conn)
            self.request_reconcile(known, "periodic")

    # --- the request paths -------------------------------------------------------------------
    def accept(self, project_id: int, action: str, delivery_key: str, payload: str) -> bool:
        """Store a webhook event and wake the queue; ``False`` for a duplicate."""
        stored = self.store.insert_event(project_id, action, delivery_key, payload)
        if stored:
            self.queue.enqueue(project_id)
        return stored

    def request_reconcile(self, project_ids: list[int], why: str) -> None:
        for pid in project_ids:
            self.accept(pid, "RECONCILE", f"RECONCILE:{pid}:{why}:{uuid.uuid4().hex}",
                        json.dumps({"reason": why}))

    def setup_project(self, project_id: int, label_config: str | None,
                      params: ProjectParams | None) -> bool:
        """Record what ``/setup`` brought; queue a job when something changed (or is new)."""
        row = self.store.get_project(project_id)
        new_hash = config_hash(label_config) if label_config else None
        changes: dict[str, Any] = {}
        if new_hash and (row is None or row.config_hash != new_hash):
            changes.update(label_config=label_config, config_hash=new_hash)
        if params is not None and (row is None or row.params != params.to_dict()):
            changes["params"] = params.to_dict()
        if row is not None and not changes:
            return False
        with self.store.write() as conn:
            projects.ensure_project(conn, project_id)
            if changes:
                projects.set_fields(conn, project_id, **changes)
        self.accept(project_id, "SETUP", f"SETUP:{project_id}:{uuid.uuid4().hex}",
                    json.dumps({"changed": sorted(changes)}))
        log.info("project %s set up (%s)", project_id, ", ".join(sorted(changes)) or "new")
        return True

    def state(self, project_id: int, job_state: str) -> str:
        """idle | queued | running for the estimate API (with RQ workers: running = a job
        holds the project's lease, so a killed worker's project does not stay 'running')."""
        if self.sweeper is not None:
            with self.store.read() as conn:
                if leases.is_live(conn, project_id):
                    return "running"
        elif job_state == "running":
            return "running"
        if self.queue.is_pending(project_id):
            return "queued"
        return "queued" if self.store.has_pending(project_id) else "idle"

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Tests and benchmarks: wait for the worker (inline queues run here instead)."""
        if isinstance(self.queue, InlineQueue):
            self.queue.run_pending()
            return True
        if isinstance(self.queue, ThreadQueue):
            return self.queue.wait_idle(timeout_s)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._idle():
                return True
            time.sleep(0.05)
        return self._idle()

    def _idle(self) -> bool:
        """Nothing waiting, running or pending (for queues run by other processes)."""
        if self.queue.depth() or self.store.pending():
            return False
        with self.store.read() as conn:
            return (leases.live_count(conn) == 0
                    and not leases.needing_jobs(conn, time.time()))
