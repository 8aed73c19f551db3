"""deploy/postgres/init-labelstudio.sh against the real local PostgreSQL server.

The postgres image runs the script with psql as the bootstrap superuser; here the local
server's superuser ``postgres`` (trust auth on 127.0.0.1) stands in, with unique role and
database names that the test drops again.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator

import deploy_files as df
import psycopg
import pytest

pytestmark = pytest.mark.integration

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


@pytest.fixture
def names() -> Iterator[str]:
    name = f"dataeff_lsinit_{secrets.token_hex(4)}"
    yield name
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def _run(name: str, password: str | None) -> subprocess.CompletedProcess[str]:
    if shutil.which("psql") is None:
        pytest.fail("psql not found: scripts/ensure-services.sh installs PostgreSQL")
    env = {
        "PATH": os.environ["PATH"],
        "PGHOST": "127.0.0.1",
        "PGPORT": "5432",
        "POSTGRES_USER": "postgres",
        "POSTGRES_DB": "test",
        "LABEL_STUDIO_DB_NAME": name,
        "LABEL_STUDIO_DB_USER": name,
    }
    if password is not None:
        env["LABEL_STUDIO_DB_PASSWORD"] = password
    return subprocess.run(
        ["sh", str(df.POSTGRES_INIT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_creates_an_owned_database_and_a_login_role(names: str) -> None:
    password = 'it\'s a "quoted" pass; DROP ROLE postgres; --'
    result = _run(names, password)
    assert result.returncode == 0, result.stderr
    with psycopg.connect(ADMIN_DSN) as conn:
        role = conn.execute(
            "SELECT rolcanlogin, rolsuper, rolpassword IS NOT NULL FROM pg_authid "
            "WHERE rolname = %s",
            (names,),
        ).fetchone()
        owner = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (names,)
        ).fetchone()
        still_superuser = conn.execute(
            "SELECT rolsuper FROM pg_authid WHERE rolname = 'postgres'"
        ).fetchone()
    assert role == (True, False, True)
    assert owner == (names,)
    assert still_superuser == (True,)  # the password went in as a literal, never as SQL


def test_a_second_run_fails_loudly(names: str) -> None:
    assert _run(names, "pw").returncode == 0
    again = _run(names, "pw")
    assert again.returncode != 0 and "already exists" in again.stderr


def test_missing_password_is_an_error(names: str) -> None:
    result = _run(names, None)
    assert result.returncode != 0
    assert "LABEL_STUDIO_DB_PASSWORD is required" in result.stderr
