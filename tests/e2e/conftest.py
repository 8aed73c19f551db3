"""Session fixtures for the end-to-end tests: one real Label Studio per test session.

The tests fail (never skip) when Label Studio is not installed: run `make labelstudio`.
Its data directory and log stay in test-output/e2e/ for inspection.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from label_studio_sdk import LabelStudio

from dataeff.demo.backend_process import BackendProcess
from dataeff.errors import NotFoundError
from dataeff.labelstudio.localserver import LocalLabelStudio, find_label_studio

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "e2e"


@pytest.fixture(scope="session")
def e2e_output() -> Path:
    """test-output/e2e: logs, screenshots and data directories of the e2e session."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


@pytest.fixture(scope="session")
def label_studio(e2e_output: Path) -> Iterator[LocalLabelStudio]:
    """A running Label Studio 1.23.2 on a free loopback port (started once per session)."""
    try:
        find_label_studio()
    except NotFoundError as error:
        pytest.fail(f"{error} (the e2e tests need a real Label Studio)")
    server = LocalLabelStudio(e2e_output / "labelstudio")
    with server:
        yield server


@pytest.fixture(scope="session")
def ls_client(label_studio: LocalLabelStudio) -> LabelStudio:
    """An SDK client logged in as the preset user (legacy token)."""
    return LabelStudio(base_url=label_studio.url, api_key=label_studio.credentials.token)


@pytest.fixture(scope="session")
def webhook_secret() -> str:
    """The secret `dataeff serve` expects in the X-Dataeff-Secret webhook header."""
    return secrets.token_urlsafe(16)


@pytest.fixture(scope="session")
def dataeff_backend(
    label_studio: LocalLabelStudio, e2e_output: Path, webhook_secret: str
) -> Iterator[BackendProcess]:
    """A real `dataeff serve` (embedded SmolLM2 on CPU, SQLite, in-process queue) talking to
    the session's Label Studio; its store and log live in test-output/e2e/backend."""
    data_dir = e2e_output / "backend"
    shutil.rmtree(data_dir, ignore_errors=True)
    backend = BackendProcess(data_dir, label_studio.url, label_studio.credentials.token,
                             secret=webhook_secret, startup_timeout_s=180)  # fmt: skip
    with backend:
        yield backend
