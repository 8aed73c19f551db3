"""Alembic environment: runs on the connection that :mod:`dataeff.service.store.engine`
hands over in ``config.attributes["connection"]`` (no alembic.ini, no URL of its own)."""

from __future__ import annotations

from alembic import context

from dataeff.service.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
