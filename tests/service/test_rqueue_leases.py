"""Project leases on SQLite (the same statements run on PostgreSQL in tests/integration), the
heartbeat, the sweeper's question, and the settings of the RQ deployment."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from dataeff.errors import ConfigError
from dataeff.service.leased import Heartbeat
from dataeff.service.store import Store, leases
from dataeff.settings import Settings


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path}/s.sqlite3")
    s.migrate()
    return s


def _acquire(store: Store, pid: int, owner: str, ttl_s: float) -> bool:
    with store.write() as conn:
        return leases.acquire(conn, pid, owner, ttl_s)


def test_a_lease_has_one_holder_until_released_or_lapsed(store: Store) -> None:
    assert _acquire(store, 1, "a", 30.0)
    assert not _acquire(store, 1, "b", 30.0)            # held
    assert _acquire(store, 2, "b", 30.0)                # another project: independent
    with store.write() as conn:
        assert leases.renew(conn, 1, "a", 30.0)
        assert not leases.renew(conn, 1, "b", 30.0)     # not the holder
        assert not leases.release(conn, 1, "b")
        assert leases.release(conn, 1, "a")
        assert not leases.release(conn, 1, "a")         # already released
    assert _acquire(store, 1, "b", 0.05)                # free again: no takeover
    time.sleep(0.1)
    with store.read() as conn:
        assert not leases.is_live(conn, 1)
    assert _acquire(store, 1, "c", 30.0)                # lapsed: taken over
    with store.write() as conn:
        assert not leases.renew(conn, 1, "b", 30.0)     # the old holder learns it lost it
        row = leases.get(conn, 1)
    assert row is not None and row.owner == "c" and row.expires_at is not None
    assert (row.runs, row.takeovers) == (3, 1)


def test_concurrent_acquires_have_exactly_one_winner(store: Store) -> None:
    start = threading.Barrier(8)
    won: list[str] = []

    def attempt(owner: str) -> None:
        start.wait()
        if _acquire(store, 7, owner, 30.0):
            won.append(owner)

    threads = [threading.Thread(target=attempt, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    with store.read() as conn:
        row = leases.get(conn, 7)
    assert row is not None and row.owner == won[0] and row.runs == 1


def test_needing_jobs_lists_unleased_pending_work_and_lapsed_leases(store: Store) -> None:
    for pid in (1, 2, 3):
        store.insert_event(pid, "ANNOTATION_CREATED", f"k{pid}", "{}")
    store.drain_inbox()
    assert _acquire(store, 2, "busy", 30.0)              # pending, but a job holds it
    assert _acquire(store, 4, "dead", 0.05)              # no events: its job died mid-way
    assert _acquire(store, 5, "done", 30.0)
    with store.write() as conn:
        assert leases.release(conn, 5, "done")           # released: nothing to do
    time.sleep(0.1)
    with store.read() as conn:
        assert leases.needing_jobs(conn, time.time() + 1) == [1, 3, 4]
        assert leases.needing_jobs(conn, 0.0) == [4]     # events too fresh: only the lapsed
        assert leases.live_count(conn) == 1
        for pid in range(1, 7):                          # the one-project question agrees
            assert leases.needs_job(conn, pid, time.time() + 1) == (pid in (1, 3, 4))
            assert leases.needs_job(conn, pid, 0.0) == (pid == 4)


def test_heartbeat_keeps_a_lease_past_its_ttl_and_notices_a_takeover(store: Store) -> None:
    assert _acquire(store, 1, "a", 0.3)
    with Heartbeat(store, 1, "a", ttl_s=0.3, every_s=0.05) as beat:
        time.sleep(0.6)                                   # twice the ttl
        assert not _acquire(store, 1, "b", 0.3)
    assert not beat.lost
    time.sleep(0.4)                                       # no heartbeat: it lapses
    assert _acquire(store, 1, "b", 30.0)
    with Heartbeat(store, 1, "a", ttl_s=0.3, every_s=0.05) as lost:
        time.sleep(0.2)
    assert lost.lost


def test_queue_settings_accept_redis_urls_and_name_bad_values() -> None:
    s = Settings.load(env={"DATAEFF_QUEUE": "redis://:pw@redis:6379/0",
                           "DATAEFF_QUEUE_NAME": "team-a_1", "DATAEFF_LEASE_TTL_S": "20",
                           "DATAEFF_LEASE_HEARTBEAT_S": "5", "DATAEFF_SWEEP_INTERVAL_S": "2",
                           "DATAEFF_JOB_TIMEOUT_S": "600"})
    assert s.queue_url == "redis://:pw@redis:6379/0" and s.queue_name == "team-a_1"
    assert s.public()["queue"] == "redis://:***@redis:6379/0"
    assert Settings.load(env={}).queue_url is None
    bad = [({"DATAEFF_QUEUE": "amqp://x"}, "setting queue"),
           ({"DATAEFF_QUEUE_NAME": "a:b"}, "setting queue_name"),
           ({"DATAEFF_LEASE_TTL_S": "0"}, "setting lease_ttl_s"),
           ({"DATAEFF_LEASE_HEARTBEAT_S": "31"}, "at most half of lease_ttl_s"),
           ({"DATAEFF_SWEEP_INTERVAL_S": "-1"}, "setting sweep_interval_s"),
           ({"DATAEFF_JOB_TIMEOUT_S": "0"}, "setting job_timeout_s"),
           ({"DATAEFF_JOB_TIMEOUT_S": "1.5"}, "expected an integer")]
    for env, needle in bad:
        with pytest.raises(ConfigError) as info:
            Settings.load(env=env)
        assert needle in str(info.value), (env, str(info.value))
