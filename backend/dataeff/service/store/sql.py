"""Dialect helpers shared by the store modules (SQLite and PostgreSQL upserts)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Float, Table, cast, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement


def _insert(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def dialect_insert(conn: Connection, table: Table) -> Any:
    """The dialect's ``INSERT`` (it has ``on_conflict_do_update`` / ``_do_nothing``)."""
    return _insert(conn, table)


def insert_ignore(conn: Connection, table: Table, keys: Sequence[str]) -> Any:
    """``INSERT ... ON CONFLICT (keys) DO NOTHING``."""
    return _insert(conn, table).on_conflict_do_nothing(index_elements=list(keys))


def upsert(conn: Connection, table: Table, keys: Sequence[str], rows: list[dict[str, Any]],
           update: Sequence[str]) -> None:
    """Insert ``rows``; on a key conflict overwrite the columns in ``update``."""
    if not rows:
        return
    stmt = _insert(conn, table)
    stmt = stmt.on_conflict_do_update(index_elements=list(keys),
                                      set_={c: stmt.excluded[c] for c in update})
    conn.execute(stmt, rows)


def db_now(conn: Connection) -> ColumnElement[float]:
    """The database server's clock in Unix seconds (float, ~1 ms resolution), as an SQL
    expression: every host compares lease expiries on this one clock, so clock skew between
    workers cannot make a live lease look expired."""
    if conn.dialect.name == "postgresql":
        return cast(func.extract("epoch", func.clock_timestamp()), Float)
    return cast((func.julianday("now") - 2440587.5) * 86400.0, Float)
