"""Alembic migrations of the dataeff store (SQLite and PostgreSQL alike)."""
