"""`dataeff serve` (the ML backend) and `dataeff db upgrade` (migrate the store)."""

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


def _upgrade(args: argparse.Namespace) -> int:
    from dataeff.service.store import Store
    from dataeff.service.store.engine import current_revision

    settings = Settings.load(args.config)
    store = Store(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    store.migrate()
    emit([{"database": settings.public()["database_url"],
           "revision": current_revision(store.engine)}], args.format)
    store.dispose()
    return 0


def _config(args: argparse.Namespace) -> int:
    settings = Settings.load(args.config)
    emit([{"setting": k, "value": v} for k, v in settings.public().items()], args.format)
    return 0
