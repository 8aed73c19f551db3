"""Job queues: at most one pending job per project, coalescing bursts of events.

:class:`JobQueue` is the seam (the scale work adds an RQ-on-Redis implementation): the
webhook path calls :meth:`~JobQueue.enqueue` with a project id only, because the job reads
everything else from the store. :class:`ThreadQueue` (the embedded default) runs jobs on one
worker thread that owns the model; a job starts ``coalesce_s`` after its project's first
pending enqueue, and enqueues that arrive while it runs make exactly one more job, so a burst
of 50 annotations gives one or two re-estimations. :class:`InlineQueue` runs jobs only when
told to (:meth:`InlineQueue.run_pending`), for deterministic tests (rq's burst mode).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Protocol

from dataeff.service.job import JobResult

log = logging.getLogger(__name__)

JobFunction = Callable[[int], JobResult]


class JobQueue(Protocol):
    def enqueue(self, project_id: int) -> None:
        """Ask for a job for the project (no-op when one is already pending)."""

    def depth(self) -> int:
        """Projects waiting for a job (not counting a running one)."""

    def is_pending(self, project_id: int) -> bool: ...

    def start(self) -> None: ...

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop taking jobs; wait up to ``timeout_s`` for a running job to finish."""


class ThreadQueue:
    """One daemon worker thread; per-project coalescing; FIFO across projects."""

    def __init__(self, job: JobFunction, *, coalesce_s: float = 0.5,
                 start_delay_s: float = 0.0,
                 on_start: Callable[[], None] | None = None) -> None:
        self._job = job
        self._coalesce_s = coalesce_s
        self._start_delay_s = start_delay_s
        self._on_start = on_start
        self._pending: dict[int, float] = {}      # project -> monotonic time first enqueued
        self._running: int | None = None
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def enqueue(self, project_id: int) -> None:
        with self._cond:
            if project_id not in self._pending:
                self._pending[project_id] = time.monotonic()
                self._cond.notify()

    def depth(self) -> int:
        with self._cond:
            return len(self._pending)

    def is_pending(self, project_id: int) -> bool:
        with self._cond:
            return project_id in self._pending

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="dataeff-worker",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("worker still busy after %.0f s; its job resumes at next start",
                            timeout_s)

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Block until nothing is pending or running (tests, benchmarks)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._pending or self._running is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def _loop(self) -> None:
        lower_thread_priority()
        with self._cond:
            if self._cond.wait_for(lambda: self._stopping, self._start_delay_s):
                return
        if self._on_start is not None:
            try:
                self._on_start()
            except Exception:
                log.exception("worker start-up hook failed")
        while True:
            with self._cond:
                project_id = self._next()
                if project_id is None:
                    return
                self._running = project_id
            try:
                result = self._job(project_id)
            except Exception:                      # the job catches its own errors
                log.exception("job for project %s raised", project_id)
                result = None
            with self._cond:
                self._running = None
                self._cond.notify_all()
            if result is not None and result.again:
                self.enqueue(project_id)

    def _next(self) -> int | None:
        """Wait for the oldest pending project's coalescing window (lock held)."""
        while not self._stopping:
            if not self._pending:
                self._cond.wait()
                continue
            project_id, first = min(self._pending.items(), key=lambda item: item[1])
            wait = first + self._coalesce_s - time.monotonic()
            if wait > 0:
                self._cond.wait(wait)
                continue
            del self._pending[project_id]
            return project_id
        return None


def lower_thread_priority(niceness: int = 10) -> None:
    """Make the calling thread (and the threads it starts: torch's) yield the CPU to the
    request threads. Linux gives each thread its own nice value; elsewhere this does nothing.
    A job's model work then fills idle cores but never delays a webhook's answer."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except (AttributeError, OSError) as error:     # not Linux, or not permitted
        log.debug("worker thread priority unchanged: %s", error)


class InlineQueue:
    """Records enqueues; :meth:`run_pending` runs them in the calling thread."""

    def __init__(self, job: JobFunction) -> None:
        self._job = job
        self._pending: list[int] = []

    def enqueue(self, project_id: int) -> None:
        if project_id not in self._pending:
            self._pending.append(project_id)

    def depth(self) -> int:
        return len(self._pending)

    def is_pending(self, project_id: int) -> bool:
        return project_id in self._pending

    def start(self) -> None:
        return None

    def stop(self, timeout_s: float = 30.0) -> None:
        return None

    def run_pending(self, max_jobs: int = 100) -> list[JobResult]:
        """Run jobs until none is pending (or ``max_jobs``); returns their results."""
        done: list[JobResult] = []
        while self._pending and len(done) < max_jobs:
            result = self._job(self._pending.pop(0))
            done.append(result)
            if result.again:
                self.enqueue(result.project_id)
        return done
