"""The sweeper: from the store, (re-)enqueue every project that needs a job and may have none.

It makes the RQ deployment self-healing without trusting Redis or RQ's bookkeeping: every
``sweep_interval_s`` it asks the store (:func:`~dataeff.service.store.leases.needing_jobs`:
one indexed query) for projects with unprocessed events older than ``grace_s`` and no live
lease, and projects whose lease lapsed without a release (a worker killed mid-job), and calls
:meth:`~dataeff.service.rqueue.RedisQueue.repair` for each: a no-op when a job waits or has
just started, and otherwise re-asks the store for that project right before pushing, so a
job that took its lease since the first query gets no duplicate. It runs in the web process
and in every worker, so recovery needs neither in particular. ``grace_s`` (the coalescing
window + 5 s) keeps it from racing a fresh enqueue or a job in its coalescing wait.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from dataeff.service.rqueue import RedisQueue
from dataeff.service.store import Store, leases

log = logging.getLogger(__name__)

GRACE_MARGIN_S = 5.0


class Sweeper:
    """Periodic repair of the queue from the store (a daemon thread)."""

    def __init__(self, store: Store, queue: RedisQueue, *, interval_s: float,
                 grace_s: float) -> None:
        self.store = store
        self.queue = queue
        self.interval_s = interval_s
        self.grace_s = grace_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep(self, grace_s: float | None = None) -> list[int]:
        """One pass; returns the projects it enqueued. Raises store or Redis errors."""
        grace = self.grace_s if grace_s is None else grace_s
        cutoff = time.time() - grace
        self.store.drain_inbox()
        with self.store.read() as conn:
            candidates = leases.needing_jobs(conn, cutoff)

        def still_needed(pid: int) -> Callable[[], bool]:
            def ask() -> bool:
                with self.store.read() as conn:
                    return leases.needs_job(conn, pid, cutoff)
            return ask

        pushed = [pid for pid in candidates
                  if self.queue.repair(pid, still_needed=still_needed(pid),
                                       started_grace_s=self.grace_s)]
        if pushed:
            log.info("sweeper queued %d project(s) with work and no job: %s", len(pushed),
                     pushed)
        return pushed

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, daemon=True,
                                            name="dataeff-sweeper")
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10.0)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.sweep()
            except (RedisError, SQLAlchemyError) as error:
                log.warning("sweep failed (next in %.0f s): %s: %s", self.interval_s,
                            type(error).__name__, error)
