"""``dataeff serve``: the app on waitress, a production multi-threaded WSGI server.

One process (so the model is loaded once and shared by the worker thread), ``http_threads``
request threads. SIGTERM/SIGINT stop it gracefully: waitress stops accepting, finishes the
requests in flight (up to 5 s), then the worker finishes its current job (up to
``stop_timeout_s``); events not yet processed stay in the store for the next start.
"""

from __future__ import annotations

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


def serve(settings: Settings, *, stop_timeout_s: float = 30.0) -> int:
    """Run until SIGTERM/SIGINT; returns the exit code."""
    from waitress.server import create_server

    configure_logging(settings.log_level)
    app = create_app(settings)
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
