"""Database engines and migrations: SQLite (embedded default, WAL) or PostgreSQL by URL.

SQLite: WAL journal (readers never block the writer), a busy timeout, and write transactions
opened with ``BEGIN IMMEDIATE`` so two writers queue on the lock instead of failing on a
read-to-write upgrade. ``synchronous=NORMAL`` in WAL mode loses nothing when the *process*
dies (kill -9); ``FULL`` also survives power loss at the cost of one fsync per commit.
PostgreSQL: ``postgresql+psycopg://...``; a ``?options=-csearch_path%3D<schema>`` query
selects a schema. Migrations are Alembic's (``service/migrations``), the same for both.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from dataeff.errors import ConfigError, UnavailableError

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
_WRITE = "dataeff_write"
_PG_MIGRATION_LOCK = 0x64617465  # pg_advisory_lock key: one migrating process at a time


def make_engine(url: str, *, sqlite_synchronous: str = "NORMAL") -> Engine:
    """An engine for ``url``; creates the SQLite file's folder when needed."""
    try:
        parsed = make_url(url)
    except Exception as error:
        raise ConfigError(f"setting db_url: not a database URL ({error})") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _sqlite_pragmas(engine, sqlite_synchronous)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    raise ConfigError(f"setting db_url: unsupported database {parsed.get_backend_name()!r}; "
                      "use sqlite:/// or postgresql+psycopg://")


def _sqlite_pragmas(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None        # SQLAlchemy's BEGIN below decides
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A short write transaction (``BEGIN IMMEDIATE`` on SQLite); commits on success."""
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        with conn.begin():
            yield conn


_migrate_lock = threading.Lock()


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest Alembic revision of the code (what :func:`migrate` brings a database to)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return str(head)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default the newest; idempotent). Existing rows are
    kept: every revision only adds (tests upgrade populated databases)."""
    from alembic import command

    with _migrate_lock:
        config = _alembic_config()
        try:
            with engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
                    conn.commit()
                try:
                    config.attributes["connection"] = conn
                    command.upgrade(config, revision)
                    conn.commit()
                finally:
                    if conn.dialect.name == "postgresql":
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"),
                                     {"k": _PG_MIGRATION_LOCK})
                        conn.commit()
        except SQLAlchemyError as error:
            cause = getattr(error, "orig", None) or error
            raise UnavailableError(f"database {engine.url!r}: migration failed: "
                                   f"{error.__class__.__name__}: {cause}") from None


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at (``None`` before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            rev: str | None = MigrationContext.configure(conn).get_current_revision()
            return rev
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        raise UnavailableError(f"database {engine.url!r}: cannot read its revision: "
                               f"{error.__class__.__name__}: {cause}") from None
