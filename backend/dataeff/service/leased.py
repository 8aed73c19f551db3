"""A project job as RQ workers run it: coalesce, claim, lease, run, release, re-check.

:func:`run_leased` wraps :func:`~dataeff.service.job.run_job` (which reads everything from the
store and marks each event processed in the transaction that applies it) so that any worker
can run any project and none is left behind:

1. wait until ``coalesce_s`` after the enqueue (events of a burst join this job);
2. take the project's lease (:mod:`dataeff.service.store.leases`);
3. drop the project's queue marker: from here on a new event enqueues a follow-up job (lease
   first, so the sweeper never sees the project with neither a marker nor a lease while a
   job is on it);
4. if step 2 failed, try the lease once more (its holder may have released it between 2 and
   3, after its re-check); if another job still holds it, return: that holder re-checks
   after its release (step 7), and every event stored before step 3 is pending by then;
5. run the job while a :class:`Heartbeat` thread renews the lease;
6. release the lease;
7. if the job left work (time-boxed confidence pass) or events arrived meanwhile (their own
   job may have found the lease taken in step 4), enqueue the project again.

A worker killed mid-job never reaches 5: its lease lapses after ``lease_ttl_s`` and the
sweeper re-enqueues the project; the next job takes the lease over and recomputes only what
is missing (scores and sketches already stored are kept).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from dataeff.service.job import JobContext, JobResult, run_job
from dataeff.service.rqueue import RedisQueue
from dataeff.service.store import Store, leases

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeasedResult:
    """What one RQ job did (``outcome`` "busy": another job held the lease)."""

    project_id: int
    outcome: str
    job: JobResult | None = None
    lease_lost: bool = False
    requeued: bool = False

    def to_json(self) -> dict[str, object]:
        return {"project": self.project_id, "outcome": self.outcome,
                "verdict": None if self.job is None else self.job.verdict,
                "estimate_id": None if self.job is None else self.job.estimate_id,
                "lease_lost": self.lease_lost, "requeued": self.requeued}


class Heartbeat:
    """Renews a held lease every ``every_s`` seconds on a daemon thread until stopped."""

    def __init__(self, store: Store, project_id: int, owner: str, *, ttl_s: float,
                 every_s: float) -> None:
        self._store = store
        self._project_id = project_id
        self._owner = owner
        self._ttl_s = ttl_s
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"dataeff-lease-{project_id}")
        self.lost = False

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            try:
                with self._store.write() as conn:
                    held = leases.renew(conn, self._project_id, self._owner, self._ttl_s)
            except SQLAlchemyError as error:     # keep trying: the lease has ttl_s of slack
                log.warning("project %s: lease heartbeat failed: %s", self._project_id, error)
                continue
            if not held:
                self.lost = True
                log.error("project %s: lease of %s lapsed and was taken over; this job's "
                          "remaining writes may duplicate the new job's", self._project_id,
                          self._owner)
                return


def run_leased(ctx: JobContext, queue: RedisQueue, project_id: int, *, job_id: str,
               owner: str, enqueued_at: float | None = None) -> LeasedResult:
    """Run one RQ job for ``project_id`` (steps in the module docstring).

    ``owner`` names this execution in the lease (worker name + job id); ``enqueued_at``
    (Unix s) starts the coalescing window, ``None`` skips it.
    """
    settings = ctx.settings
    if enqueued_at is not None:
        wait = min(settings.coalesce_s, enqueued_at + settings.coalesce_s - time.time())
        if wait > 0:
            time.sleep(wait)
    acquired = _acquire(ctx.store, project_id, owner, settings.lease_ttl_s)
    try:
        queue.claim(project_id, job_id)
        if not acquired:
            acquired = _acquire(ctx.store, project_id, owner, settings.lease_ttl_s)
        if not acquired:
            log.info("job project=%s skipped: another job holds its lease", project_id)
            return LeasedResult(project_id, "busy")
        heartbeat = Heartbeat(ctx.store, project_id, owner, ttl_s=settings.lease_ttl_s,
                              every_s=settings.lease_heartbeat_s)
        with heartbeat:
            result = run_job(ctx, project_id)
    finally:
        if acquired:
            with ctx.store.write() as conn:
                leases.release(conn, project_id, owner)
    more = ctx.store.has_pending(project_id)
    if result.again or more:
        queue.enqueue(project_id)
    return LeasedResult(project_id, result.outcome, result, heartbeat.lost,
                        requeued=result.again or more)


def _acquire(store: Store, project_id: int, owner: str, ttl_s: float) -> bool:
    with store.write() as conn:
        return leases.acquire(conn, project_id, owner, ttl_s)
