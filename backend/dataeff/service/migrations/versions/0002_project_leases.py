"""Project leases for RQ workers, and a partial index of unprocessed events for the sweeper.

Adds a table and an index only: every existing row stays as it is (tests upgrade a populated
0001 database on SQLite and PostgreSQL and compare).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_UNPROCESSED = sa.text("processed_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "project_leases",
        sa.Column("project_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=True),
        sa.Column("acquired_at", sa.Float, nullable=False),
        sa.Column("runs", sa.Integer, nullable=False, server_default="0"),
        sa.Column("takeovers", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_project_leases_expires", "project_leases", ["expires_at"])
    op.create_index("ix_events_unprocessed", "events", ["project_id", "received_at"],
                    postgresql_where=_UNPROCESSED, sqlite_where=_UNPROCESSED)


def downgrade() -> None:
    op.drop_index("ix_events_unprocessed", table_name="events")
    op.drop_index("ix_project_leases_expires", table_name="project_leases")
    op.drop_table("project_leases")
