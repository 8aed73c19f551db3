"""Initial store: projects, tasks, annotations, sketches, events, estimates.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("label_config", sa.Text, nullable=True),
        sa.Column("config_hash", sa.String(32), nullable=True),
        sa.Column("params", sa.Text, nullable=False, server_default="{}"),
        sa.Column("job_state", sa.String(16), nullable=False, server_default="idle"),
        sa.Column("job_started_at", sa.Float, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("published_kind", sa.String(32), nullable=True),
        sa.Column("synced_at", sa.Float, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "tasks",
        sa.Column("project_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("task_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("data_hash", sa.String(32), nullable=False),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("score_key", sa.String(200), nullable=True),
        sa.Column("unusable", sa.Text, nullable=True),
        sa.Column("prediction_id", sa.Integer, nullable=True),
        sa.Column("prediction_score", sa.Float, nullable=True),
        sa.Column("prediction_status", sa.Text, nullable=True),
    )
    op.create_table(
        "annotations",
        sa.Column("project_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("annotation_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("task_id", sa.Integer, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("was_cancelled", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_annotations_task", "annotations", ["project_id", "task_id"])
    op.create_table(
        "sketches",
        sa.Column("project_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("task_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("answer_hash", sa.String(32), primary_key=True),
        sa.Column("model_key", sa.String(200), primary_key=True),
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("id", _EVENT_ID, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer, nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("delivery_key", sa.String(200), nullable=False, unique=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("processed_at", sa.Float, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_events_pending", "events", ["project_id", "processed_at"])
    op.create_table(
        "estimates",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("annotated", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_estimates_project", "estimates", ["project_id", "id"])


def downgrade() -> None:
    for index, table in (("ix_estimates_project", "estimates"), ("ix_events_pending", "events"),
                         ("ix_annotations_task", "annotations")):
        op.drop_index(index, table_name=table)
    for table in ("estimates", "events", "sketches", "annotations", "tasks", "projects"):
        op.drop_table(table)
