"""RQ on Redis: the job queue shared by the web process and the `dataeff worker` processes.

A job is an RQ job calling :data:`JOB_FUNCTION` by path with one JSON argument, the project id
(rq's ``JSONSerializer``, never pickle): everything else is read from the store.

**One waiting job per project.** Before pushing a job, :meth:`RedisQueue.submit` sets the
project's *marker* key (``dataeff:<queue_name>:queued:<project>``, value: the RQ job id) with
``SET NX``; while it exists, further enqueues are no-ops. The job deletes the marker once it
holds the project's lease (only if the marker still names it), *before* it reads the store,
so an event stored after that enqueues exactly one follow-up job. RQ job ids must match
``[A-Za-z0-9_-]+``: ``dataeff-<queue_name>-p<project>-<12 hex>``.

**Redis is not the source of truth.** An event is in the store before it is acknowledged,
and the store says which projects need a job (unprocessed events, lapsed leases: see
:mod:`dataeff.service.store.leases`). If Redis is down when an event arrives, the webhook is
still acknowledged and :class:`~dataeff.service.sweeper.Sweeper` enqueues the project later
through :meth:`RedisQueue.repair`, which also replaces a marker whose job is not on its way
(an enqueue that died half-way, a job Redis lost, a worker that died before its lease).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from redis import Redis
from redis.exceptions import RedisError, WatchError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer

from dataeff.errors import UnavailableError
from dataeff.settings import Settings

log = logging.getLogger(__name__)

JOB_FUNCTION = "dataeff.service.worker.perform"
WAITING = frozenset({"queued", "deferred", "scheduled"})
FAILURE_TTL_S = 86400          # failed RQ jobs (e.g. abandoned by a killed worker) kept a day
# delete the marker only if it still names this job (another may have replaced it)
_CLAIM = ("if redis.call('get', KEYS[1]) == ARGV[1] then "
          "return redis.call('del', KEYS[1]) end return 0")


def connect(url: str, *, socket_timeout_s: float | None) -> Redis:
    """A Redis client for ``url`` (no I/O yet). ``socket_timeout_s=None`` for RQ workers,
    whose blocking dequeue waits for minutes."""
    try:
        return Redis.from_url(url, socket_connect_timeout=5.0,
                              socket_timeout=socket_timeout_s, health_check_interval=30)
    except ValueError as error:
        raise UnavailableError(f"setting queue {url!r}: not a usable Redis URL "
                               f"({error})") from None


class RedisQueue:
    """:class:`~dataeff.service.queue.JobQueue` on RQ; see the module docstring."""

    def __init__(self, connection: Redis, *, name: str = "dataeff",
                 job_timeout_s: int = 3600) -> None:
        self.name = name
        self.redis = connection
        self.job_timeout_s = job_timeout_s
        self.rq = Queue(name, connection=connection, serializer=JSONSerializer,
                        default_timeout=job_timeout_s)
        self._claim = connection.register_script(_CLAIM)

    @classmethod
    def from_settings(cls, settings: Settings, *,
                      socket_timeout_s: float | None = 5.0) -> RedisQueue:
        url = settings.queue_url
        if url is None:
            raise UnavailableError(f"setting queue {settings.queue!r} is not a Redis URL")
        return cls(connect(url, socket_timeout_s=socket_timeout_s), name=settings.queue_name,
                   job_timeout_s=settings.job_timeout_s)

    # --- names ----------------------------------------------------------------------------
    def marker_key(self, project_id: int) -> str:
        return f"dataeff:{self.name}:queued:{project_id}"

    def new_job_id(self, project_id: int) -> str:
        return f"dataeff-{self.name}-p{project_id}-{uuid.uuid4().hex[:12]}"

    # --- JobQueue ---------------------------------------------------------------------------
    def enqueue(self, project_id: int) -> None:
        """Ask for a job (no-op while one waits). A Redis failure is logged, not raised:
        the event is already stored and the sweeper enqueues the project when Redis is back."""
        try:
            self.submit(project_id)
        except RedisError as error:
            log.warning("project %s: queue unavailable (%s: %s); the sweeper will enqueue it",
                        project_id, type(error).__name__, error)

    def depth(self) -> int:
        """Jobs waiting in the RQ queue (0 when Redis cannot be reached)."""
        try:
            return int(self.rq.count)
        except RedisError:
            return 0

    def is_pending(self, project_id: int) -> bool:
        try:
            return bool(self.redis.exists(self.marker_key(project_id)))
        except RedisError:
            return False

    def start(self) -> None:
        return None

    def stop(self, timeout_s: float = 30.0) -> None:
        self.redis.close()

    # --- the parts the worker and the sweeper use -----------------------------------------
    def ping(self) -> None:
        """Raise :class:`UnavailableError` naming the queue when Redis does not answer."""
        try:
            self.redis.ping()
        except RedisError as error:
            raise UnavailableError(f"Redis queue {self.name!r} is unreachable: "
                                   f"{type(error).__name__}: {error}") from None

    def submit(self, project_id: int) -> bool:
        """Push a job unless one waits for the project; ``True`` if pushed. Raises RedisError."""
        job_id = self.new_job_id(project_id)
        if not self.redis.set(self.marker_key(project_id), job_id, nx=True):
            return False
        self._push(project_id, job_id)
        return True

    def repair(self, project_id: int, *, still_needed: Callable[[], bool] | None = None,
               started_grace_s: float = 0.0) -> bool:
        """Push a job unless one is on its way for the project; ``True`` if pushed.

        A marker whose job waits, or started less than ``started_grace_s`` ago (it takes its
        lease within milliseconds), is kept; one whose job is gone, finished, failed or
        started long ago without a lease is replaced. ``still_needed`` (the store's fresh
        answer) is asked last, just before the push. Raises RedisError.
        """
        key = self.marker_key(project_id)
        job_id = self.new_job_id(project_id)
        with self.redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]
                    old = pipe.get(key)
                    if ((old is not None and self._on_its_way(_text(old), started_grace_s))
                            or (still_needed is not None and not still_needed())):
                        pipe.unwatch()
                        return False
                    pipe.multi()
                    pipe.set(key, job_id)
                    pipe.execute()
                    break
                except WatchError:
                    continue
        self._push(project_id, job_id)
        return True

    def claim(self, project_id: int, job_id: str) -> bool:
        """The job ``job_id`` starts: drop the project's marker if it names this job."""
        return bool(self._claim(keys=[self.marker_key(project_id)], args=[job_id]))

    def job_status(self, job_id: str) -> str | None:
        job = self._fetch(job_id)
        status = None if job is None else job.get_status(refresh=False)
        return None if status is None else str(status.value)

    def _fetch(self, job_id: str) -> Job | None:
        try:
            return Job.fetch(job_id, connection=self.redis, serializer=JSONSerializer)
        except NoSuchJobError:
            return None

    def _on_its_way(self, job_id: str, started_grace_s: float) -> bool:
        job = self._fetch(job_id)
        status = None if job is None else job.get_status(refresh=False)
        if job is None or status is None:
            return False
        if status.value in WAITING:
            return True
        started = job.started_at
        if status.value != "started" or started is None:
            return False
        if started.tzinfo is None:                     # RQ stores UTC
            started = started.replace(tzinfo=dt.UTC)
        return time.time() - started.timestamp() < started_grace_s

    def _push(self, project_id: int, job_id: str) -> None:
        try:
            self.rq.enqueue_call(JOB_FUNCTION, args=[project_id], job_id=job_id,
                                 timeout=self.job_timeout_s, result_ttl=0,
                                 failure_ttl=FAILURE_TTL_S,
                                 description=f"dataeff re-estimation of project {project_id}")
        except BaseException:
            with contextlib.suppress(RedisError):    # no job behind the marker: drop it
                self.claim(project_id, job_id)
            raise
        log.debug("project %s: job %s queued", project_id, job_id)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
