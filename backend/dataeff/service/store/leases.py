"""Per-project job leases: one job runs a project at a time, across processes and hosts.

A job takes its project's lease before it reads anything, renews it on a heartbeat while it
runs, and releases it at the end (``expires_at`` NULL). Taking is one atomic statement
(``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` the lease is released or lapsed), so two
workers can never both hold it. A lease that lapses without a release marks a job that died
(kill -9, lost host) or stalled: :func:`needing_jobs` reports such projects, with those
holding unprocessed events and no live lease, for the sweeper to re-enqueue. Expiries are on
the database clock (:func:`~dataeff.service.store.sql.db_now`), one clock for every host.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, case, func, select, update

from dataeff.service.store.schema import events, project_leases
from dataeff.service.store.sql import db_now, dialect_insert


@dataclass(frozen=True)
class LeaseRow:
    project_id: int
    owner: str                 # the last job that held it (kept after release)
    expires_at: float | None   # database clock, Unix s; None: released
    acquired_at: float
    runs: int                  # leased jobs run for the project
    takeovers: int             # times a lapsed (unreleased) lease was taken over


def acquire(conn: Connection, project_id: int, owner: str, ttl_s: float) -> bool:
    """Take the project's lease for ``ttl_s`` seconds if it is free or lapsed."""
    table = project_leases
    now = db_now(conn)
    stmt = dialect_insert(conn, table).values(project_id=project_id, owner=owner,
                                       expires_at=now + ttl_s, acquired_at=now, runs=1,
                                       takeovers=0)
    stmt = stmt.on_conflict_do_update(
        index_elements=["project_id"],
        set_={"owner": stmt.excluded.owner, "expires_at": stmt.excluded.expires_at,
              "acquired_at": stmt.excluded.acquired_at, "runs": table.c.runs + 1,
              "takeovers": table.c.takeovers + case((table.c.expires_at.is_(None), 0),
                                                    else_=1)},
        where=table.c.expires_at.is_(None) | (table.c.expires_at < now))
    return conn.execute(stmt.returning(table.c.project_id)).first() is not None


def renew(conn: Connection, project_id: int, owner: str, ttl_s: float) -> bool:
    """Extend a held lease by ``ttl_s`` from now; ``False`` when another job took it over."""
    table = project_leases
    result = conn.execute(update(table).where(
        table.c.project_id == project_id, table.c.owner == owner,
        table.c.expires_at.is_not(None)).values(expires_at=db_now(conn) + ttl_s))
    return int(result.rowcount) == 1


def release(conn: Connection, project_id: int, owner: str) -> bool:
    """Give a held lease back; ``False`` when it was no longer ours."""
    table = project_leases
    result = conn.execute(update(table).where(
        table.c.project_id == project_id, table.c.owner == owner,
        table.c.expires_at.is_not(None)).values(expires_at=None))
    return int(result.rowcount) == 1


def get(conn: Connection, project_id: int) -> LeaseRow | None:
    r = conn.execute(select(project_leases).where(
        project_leases.c.project_id == project_id)).first()
    return None if r is None else LeaseRow(r.project_id, r.owner, r.expires_at, r.acquired_at,
                                           r.runs, r.takeovers)


def rows(conn: Connection) -> list[LeaseRow]:
    """Every lease row, by project (tests, benchmarks, operators)."""
    return [LeaseRow(r.project_id, r.owner, r.expires_at, r.acquired_at, r.runs, r.takeovers)
            for r in conn.execute(select(project_leases).order_by(project_leases.c.project_id))]


def is_live(conn: Connection, project_id: int) -> bool:
    """Whether a job holds the project's lease right now."""
    table = project_leases
    row = conn.execute(select(table.c.project_id).where(
        table.c.project_id == project_id, table.c.expires_at >= db_now(conn))).first()
    return row is not None


def live_count(conn: Connection) -> int:
    """How many projects a job is running right now."""
    table = project_leases
    return int(conn.execute(select(func.count()).select_from(table).where(
        table.c.expires_at >= db_now(conn))).scalar_one())


def needs_job(conn: Connection, project_id: int, received_before: float) -> bool:
    """:func:`needing_jobs` for one project, read fresh (the sweeper's last check)."""
    table = project_leases
    now = db_now(conn)
    lease = conn.execute(select((table.c.expires_at >= now).label("live"),
                                (table.c.expires_at < now).label("lapsed"))
                         .where(table.c.project_id == project_id)).first()
    if lease is not None and (lease.live or lease.lapsed):
        return bool(lease.lapsed)
    oldest = conn.execute(select(func.min(events.c.received_at)).where(
        events.c.project_id == project_id, events.c.processed_at.is_(None))).scalar()
    return oldest is not None and float(oldest) < received_before


def needing_jobs(conn: Connection, received_before: float) -> list[int]:
    """Projects that need a job and may have none (the sweeper's question).

    Two kinds, oldest work first: projects with an unprocessed event received before
    ``received_before`` (Unix s, the web's clock) and no live lease; and projects whose lease
    lapsed without a release (their job died mid-way: its events may all be marked processed
    while its estimate was never written).
    """
    table = project_leases
    now = db_now(conn)
    live = select(table.c.project_id).where(table.c.expires_at >= now)
    pending = conn.execute(
        select(events.c.project_id, func.min(events.c.received_at).label("oldest"))
        .where(events.c.processed_at.is_(None), events.c.project_id.not_in(live))
        .group_by(events.c.project_id)
        .having(func.min(events.c.received_at) < received_before)
        .order_by("oldest"))
    out = [int(r.project_id) for r in pending]
    lapsed = conn.execute(select(table.c.project_id).where(
        table.c.expires_at.is_not(None), table.c.expires_at < now)
        .order_by(table.c.expires_at))
    out += [int(pid) for pid in lapsed.scalars() if pid not in out]
    return out
