"""Dialect helpers shared by the store modules (SQLite and PostgreSQL upserts)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def _insert(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


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
