"""`dataeff serve` (the ML backend), `dataeff worker` (an RQ worker with the model resident),
`dataeff db upgrade` (migrate the store) and `dataeff config` (the effective settings)."""

from __future__ import annotations

import argparse
from typing import Any

from dataeff.cli.output import add_format_option, emit
from dataeff.settings import Settings


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-commands to the `dataeff` parser."""
    serve = commands.add_parser(
        "serve", help="run the Label Studio ML backend (webhooks, estimates, predictions)",
        description="Serve the Label Studio ML backend. Settings come from DATAEFF_* "
                    "environment variables and an optional config file; options override.")
    serve.add_argument("--host", help="bind address (DATAEFF_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (DATAEFF_PORT, default 9090)")
    serve.add_argument("--config", help="TOML, JSON or YAML settings file (DATAEFF_CONFIG)")
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser(
        "worker", help="run re-estimation jobs from the Redis queue (model loaded once)",
        description="Run an RQ worker on DATAEFF_QUEUE=redis://...: it loads the model before "
                    "taking jobs and keeps it resident. Run one per GPU, choosing it with "
                    "CUDA_VISIBLE_DEVICES. SIGTERM finishes the current job, then exits.")
    worker.add_argument("--config", help="TOML, JSON or YAML settings file (DATAEFF_CONFIG)")
    worker.add_argument("--burst", action="store_true",
                        help="exit once the queue is empty instead of waiting for jobs")
    worker.add_argument("--max-jobs", type=_positive_int, metavar="N",
                        help="exit after N jobs")
    worker.set_defaults(handler=_worker)

    db = commands.add_parser("db", help="manage the dataeff store")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply the store's migrations")
    upgrade.add_argument("--config", help="TOML, JSON or YAML settings file (DATAEFF_CONFIG)")
    add_format_option(upgrade)
    upgrade.set_defaults(handler=_upgrade)

    config = commands.add_parser("config", help="print the effective settings (secrets masked)")
    config.add_argument("--config", help="TOML, JSON or YAML settings file (DATAEFF_CONFIG)")
    add_format_option(config)
    config.set_defaults(handler=_config)


def _serve(args: argparse.Namespace) -> int:
    from dataeff.service.server import serve

    settings = Settings.load(args.config, overrides={"host": args.host, "port": args.port})
    return serve(settings)


def _worker(args: argparse.Namespace) -> int:
    from dataeff.service.server import configure_logging
    from dataeff.service.worker import run_worker

    settings = Settings.load(args.config)
    configure_logging(settings.log_level)
    return run_worker(settings, burst=args.burst, max_jobs=args.max_jobs)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _upgrade(args: argparse.Namespace) -> int:
    from dataeff.service.store import Store
    from dataeff.service.store.engine import current_revision

    settings = Settings.load(args.config)
    store = Store(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        before = current_revision(store.engine)
        store.migrate()
        after = current_revision(store.engine)
    finally:
        store.dispose()
    emit([{"database": settings.public()["database_url"], "from_revision": before,
           "revision": after, "changed": before != after}], args.format)
    return 0


def _config(args: argparse.Namespace) -> int:
    settings = Settings.load(args.config)
    emit([{"setting": k, "value": v} for k, v in settings.public().items()], args.format)
    return 0
