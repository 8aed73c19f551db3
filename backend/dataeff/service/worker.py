"""`dataeff worker`: an RQ worker process that keeps the model resident.

:func:`run_worker` builds the process's :class:`~dataeff.service.runtime.Runtime` parts once
(settings, store, Label Studio gateway, :class:`~dataeff.service.scorers.ScorerPool`), loads
the default model *before* taking a job, starts a :class:`~dataeff.service.sweeper.Sweeper`
and then runs an RQ ``SimpleWorker``: jobs execute in this process, so there is no fork and
no model reload per job. One worker per GPU: start each with its own
``CUDA_VISIBLE_DEVICES=<index>`` (containers: one GPU per container or pod).

:func:`perform` is the RQ job function (by path ``dataeff.service.worker.perform``, JSON
payload: the project id); it runs :func:`~dataeff.service.leased.run_leased` on the resident
runtime. SIGTERM is RQ's warm shutdown: the current job finishes first.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
from typing import Any

from rq import SimpleWorker, get_current_job
from rq.serializers import JSONSerializer

from dataeff.errors import ConfigError
from dataeff.labelstudio.mapping import map_label_config
from dataeff.service.leased import run_leased
from dataeff.service.rqueue import RedisQueue, connect
from dataeff.service.runtime import Runtime
from dataeff.service.scorers import ScorerFactory
from dataeff.settings import Settings

log = logging.getLogger(__name__)

_resident: dict[str, Any] = {}      # "runtime": the process's Runtime, "name": worker name


def perform(project_id: int) -> dict[str, object]:
    """RQ job: re-estimate ``project_id`` with this process's resident model."""
    if isinstance(project_id, bool) or not isinstance(project_id, int) or project_id < 1:
        raise ValueError(f"job payload: project id must be a positive integer, got "
                         f"{project_id!r}")
    runtime = _resident.get("runtime")
    if runtime is None:                   # a plain `rq worker` imported us: build it once
        runtime = _resident["runtime"] = Runtime(Settings.load())
        _resident["name"] = worker_name(runtime.settings)
    assert isinstance(runtime.queue, RedisQueue)
    job = get_current_job()
    job_id = job.id if job is not None else runtime.queue.new_job_id(project_id)
    enqueued = job.enqueued_at if job is not None else None
    result = run_leased(runtime.context, runtime.queue, project_id, job_id=job_id,
                        owner=f"{_resident['name']}/{job_id}"[:200],
                        enqueued_at=_unix(enqueued))
    return result.to_json()


def worker_name(settings: Settings) -> str:
    """``<queue_name>-<host>-<pid>``: unique among live workers, readable in lease owners."""
    return f"{settings.queue_name}-{socket.gethostname()}-{os.getpid()}"


def run_worker(settings: Settings, *, burst: bool = False, max_jobs: int | None = None,
               scorer_factory: ScorerFactory | None = None) -> int:
    """Run until SIGTERM (or, with ``burst``, until the queue is empty); the exit code."""
    if settings.queue_url is None:
        raise ConfigError(f"setting queue ({settings.queue!r}): `dataeff worker` needs a Redis "
                          "queue, e.g. DATAEFF_QUEUE=redis://127.0.0.1:6379/0; with the "
                          "in-process queue `dataeff serve` runs the jobs itself")
    runtime = Runtime(settings, scorer_factory=scorer_factory)
    assert isinstance(runtime.queue, RedisQueue) and runtime.sweeper is not None
    name = worker_name(settings)
    try:
        runtime.queue.ping()
        if settings.db_auto_migrate:
            runtime.store.migrate()
        log.info("worker %s: device %s, CUDA_VISIBLE_DEVICES=%s, queue %s", name,
                 settings.device, os.environ.get("CUDA_VISIBLE_DEVICES", "(unset)"),
                 settings.queue_name)
        if settings.preload_model:
            runtime.scorers.get(None)
        warm_up()
        _resident.update(runtime=runtime, name=name)
        runtime.sweeper.start()
        worker = SimpleWorker([settings.queue_name], name=name,
                              connection=connect(settings.queue_url, socket_timeout_s=None),
                              serializer=JSONSerializer)
        worker.work(burst=burst, max_jobs=max_jobs, logging_level=settings.log_level)
    finally:
        _resident.clear()
        runtime.sweeper.stop()
        runtime.queue.stop()
        runtime.store.dispose()
    log.info("worker %s stopped", name)
    return 0


_WARM_UP_CONFIG = ('<View><Text name="text" value="$text"/><Choices name="label" toName="text">'
                   '<Choice value="yes"/><Choice value="no"/></Choices></View>')


def warm_up() -> None:
    """Pay the one-time costs of a job before taking one: the label-config parser (Label
    Studio SDK) imports lazily in about 1 s, which would otherwise delay each worker's
    first job."""
    started = time.monotonic()
    map_label_config(_WARM_UP_CONFIG)
    log.info("job code warmed up in %.2f s", time.monotonic() - started)


def _unix(when: dt.datetime | None) -> float | None:
    if when is None:
        return None
    if when.tzinfo is None:                 # RQ stores UTC
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()
