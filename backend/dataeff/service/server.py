"""``dataeff serve``: the app on waitress, a production multi-threaded WSGI server.

One process (so the model is loaded once and shared by the worker thread), ``http_threads``
request threads. SIGTERM/SIGINT stop it gracefully: waitress stops accepting, finishes the
requests in flight (up to 5 s), then the worker finishes its current job (up to
``stop_timeout_s``); events not yet processed stay in the store for the next start.
"""

from __future__ import annotations

import gc
import logging
import signal
import sys
from types import FrameType

from dataeff.service.app import create_app
from dataeff.settings import Settings

log = logging.getLogger(__name__)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("alembic", "waitress.queue", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def tune_for_latency() -> None:
    """Keep request threads from waiting on the interpreter (measured in bench/webhook.py).

    * Garbage collection: a full pass stops every thread and walks every tracked object; with
      torch, transformers, SQLAlchemy and Flask loaded that took ~100 ms, every 2 s while a
      job churned objects, and each pass was a spike of slow webhook answers. ``gc.freeze()``
      moves what exists now (modules, the app; the model once loaded, ``Runtime._preload``)
      into a permanent generation that passes skip, and larger thresholds make the passes
      over what remains rarer. Cycles created later are still collected.
    * The GIL: a thread back from SQLite or a socket waits for the running thread's switch
      interval (5 ms by default) before it runs again, once per statement; 1 ms keeps a
      webhook's few steps from adding up behind a job's Python work.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(5_000, 50, 20)
    sys.setswitchinterval(0.001)


def serve(settings: Settings, *, stop_timeout_s: float = 30.0) -> int:
    """Run until SIGTERM/SIGINT; returns the exit code."""
    from waitress.server import create_server

    configure_logging(settings.log_level)
    app = create_app(settings)
    tune_for_latency()
    runtime = app.extensions["dataeff"]
    server = create_server(app, host=settings.host, port=settings.port,
                           threads=settings.http_threads, ident="dataeff",
                           max_request_body_size=2 * settings.max_body_bytes,
                           clear_untrusted_proxy_headers=True)

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("dataeff serving on http://%s:%s (%d threads, model_version %s)",
             settings.host, getattr(server, "effective_port", settings.port),
             settings.http_threads, settings.model_version)
    try:
        server.run()                     # returns after SystemExit closed the server
    finally:
        runtime.stop(stop_timeout_s)
    return 0
