"""The store's tables (SQLAlchemy Core). Alembic migrations create them; a test checks that
the migrated database and this metadata agree.

Times are Unix seconds (float); JSON is stored as text so SQLite and PostgreSQL hold the
same bytes.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

# SQLite autoincrements only an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
EventId = BigInteger().with_variant(Integer(), "sqlite")

projects = Table(
    "projects", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("label_config", Text, nullable=True),
    Column("config_hash", String(32), nullable=True),
    Column("params", Text, nullable=False, server_default="{}"),
    Column("job_state", String(16), nullable=False, server_default="idle"),
    Column("job_started_at", Float, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("published_kind", String(32), nullable=True),
    Column("synced_at", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

tasks = Table(
    "tasks", metadata,
    Column("project_id", Integer, primary_key=True, autoincrement=False),
    Column("task_id", Integer, primary_key=True, autoincrement=False),
    Column("data", Text, nullable=False),
    Column("data_hash", String(32), nullable=False),
    Column("confidence", Float, nullable=True),
    Column("score_key", String(200), nullable=True),
    Column("unusable", Text, nullable=True),
    Column("prediction_id", Integer, nullable=True),
    Column("prediction_score", Float, nullable=True),
    Column("prediction_status", Text, nullable=True),
)

annotations_table = Table(
    "annotations", metadata,
    Column("project_id", Integer, primary_key=True, autoincrement=False),
    Column("annotation_id", Integer, primary_key=True, autoincrement=False),
    Column("task_id", Integer, nullable=False),
    Column("result", Text, nullable=False),
    Column("was_cancelled", Boolean, nullable=False),
    Column("updated_at", String(40), nullable=False),
    Index("ix_annotations_task", "project_id", "task_id"),
)

sketches = Table(
    "sketches", metadata,
    Column("project_id", Integer, primary_key=True, autoincrement=False),
    Column("task_id", Integer, primary_key=True, autoincrement=False),
    Column("answer_hash", String(32), primary_key=True),
    Column("model_key", String(200), primary_key=True),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),
)

events = Table(
    "events", metadata,
    Column("id", EventId, primary_key=True, autoincrement=True),
    Column("project_id", Integer, nullable=False),
    Column("action", String(40), nullable=False),
    Column("delivery_key", String(200), nullable=False, unique=True),
    Column("payload", Text, nullable=False),
    Column("received_at", Float, nullable=False),
    Column("processed_at", Float, nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_events_pending", "project_id", "processed_at"),
    # partial: only unprocessed rows, so the sweeper's scan stays small as the log grows
    Index("ix_events_unprocessed", "project_id", "received_at",
          postgresql_where=text("processed_at IS NULL"),
          sqlite_where=text("processed_at IS NULL")),
)

estimates = Table(
    "estimates", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("verdict", String(32), nullable=False),
    Column("annotated", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_estimates_project", "project_id", "id"),
)

# One row per project that ever ran a leased job (RQ workers): the job holding the lease is the
# only one running the project. ``expires_at`` is on the database clock (Unix s); NULL means
# released. ``runs`` counts leased jobs, ``takeovers`` leases taken over after they lapsed
# (a worker died or stalled mid-job).
project_leases = Table(
    "project_leases", metadata,
    Column("project_id", Integer, primary_key=True, autoincrement=False),
    Column("owner", String(200), nullable=False),
    Column("expires_at", Float, nullable=True),
    Column("acquired_at", Float, nullable=False),
    Column("runs", Integer, nullable=False, server_default="0"),
    Column("takeovers", Integer, nullable=False, server_default="0"),
    Index("ix_project_leases_expires", "expires_at"),
)
