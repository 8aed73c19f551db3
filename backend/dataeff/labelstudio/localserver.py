"""Start and stop a local, headless Label Studio for tests, the demo and ``make up`` (LS §8).

Label Studio 1.23.2 lives in its own virtual environment (``.venv-ls``, made by ``make
labelstudio``). :class:`LocalLabelStudio` runs ``label-studio start`` on a free loopback port
with SQLite in a data directory, a preset user and legacy token, and the settings a loopback
ML backend needs (SSRF checks off); it waits for ``/health`` on that exact port (Label Studio
silently moves to the next port when its port is busy) and stops the process by its id.

Example::

    with LocalLabelStudio(Path("/tmp/ls")) as ls:
        print(ls.url, ls.credentials.token)
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import requests

from dataeff.errors import NotFoundError, UnavailableError

logger = logging.getLogger(__name__)

LABEL_STUDIO_VERSION = "1.23.2"
CREDENTIALS_FILE = "dataeff-credentials.json"
DEFAULT_USERNAME = "annotator@dataeff.local"
_REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class LabelStudioCredentials:
    """The preset user of a local Label Studio: login email, password and 40-char legacy token."""

    username: str
    password: str
    token: str

    @classmethod
    def generate(cls, username: str = DEFAULT_USERNAME) -> LabelStudioCredentials:
        return cls(username, secrets.token_urlsafe(12), secrets.token_hex(20))


def find_label_studio(executable: Path | None = None) -> Path:
    """The ``label-studio`` program: ``executable``, ``$DATAEFF_LABEL_STUDIO_BIN``, the repo's
    ``.venv-ls/bin/label-studio`` or the ``PATH``, in that order."""
    env = os.environ.get("DATAEFF_LABEL_STUDIO_BIN")
    candidates = [executable, Path(env) if env else None, _REPO_ROOT / ".venv-ls/bin/label-studio"]
    for candidate in candidates:
        if candidate is not None and candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("label-studio")
    if found:
        return Path(found)
    raise NotFoundError(
        "label-studio executable not found (looked at $DATAEFF_LABEL_STUDIO_BIN, "
        f"{_REPO_ROOT / '.venv-ls/bin/label-studio'} and PATH); run `make labelstudio`"
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """A child server process that is healthy once ``GET <url>/health`` passes ``healthy``.

    Subclasses give ``name``, ``url``, ``command()`` and ``environment()``. The child runs in
    its own session with stdout and stderr appended to ``log_path``; :meth:`stop` signals it
    by its process id only.
    """

    name = "server"

    def __init__(self, log_path: Path, startup_timeout_s: float) -> None:
        self.log_path = log_path
        self.startup_timeout_s = startup_timeout_s
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        raise NotImplementedError

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        raise NotImplementedError

    def healthy(self, answer: requests.Response) -> bool:
        """Whether a ``/health`` answer means ready (default: HTTP 200)."""
        return answer.status_code == 200

    def start(self) -> Self:
        """Start the child and wait until ``/health`` says it is ready."""
        if self.process is not None and self.process.poll() is None:
            raise UnavailableError(f"{self.name} already running (pid {self.process.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command, env = self.command(), self.environment()
        logger.info("starting %s on %s", self.name, self.url)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                env=env,
                cwd=self.log_path.parent,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        assert self.process is not None
        started = time.monotonic()
        while time.monotonic() - started < self.startup_timeout_s:
            if self.process.poll() is not None:
                raise UnavailableError(
                    f"{self.name} exited with code {self.process.returncode} during startup; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            try:
                if self.healthy(requests.get(f"{self.url}/health", timeout=2)):
                    logger.info("%s up in %.1f s", self.name, time.monotonic() - started)
                    return
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.3)
        raise UnavailableError(
            f"{self.name} did not answer {self.url}/health within {self.startup_timeout_s:.0f} s;"
            f" log {self.log_path}:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines of the child's log."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM the child (by its process id), then SIGKILL it after ``timeout_s``."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        logger.info("stopping %s (pid %d)", self.name, process.pid)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout_s)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class LocalLabelStudio(ServerProcess):
    """``label-studio start`` on ``127.0.0.1:<port>`` with SQLite in ``data_dir``.

    ``data_dir`` holds the database, the process log (``label-studio.log``), a scratch
    ``home`` and the credentials file; credentials are generated on the first start and
    reused afterwards (the legacy-token switch only applies when the organization is
    created). ``port`` defaults to a free port, picked at each start. ``startup_timeout_s``
    bounds the wait for ``/health`` (a fresh data dir takes 20-70 s on 2 busy cores:
    migrations and user creation; an existing one about 7 s).
    """

    name = "Label Studio"

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        executable: Path | None = None,
        username: str = DEFAULT_USERNAME,
        startup_timeout_s: float = 180.0,
    ) -> None:
        self.data_dir = data_dir.resolve()
        super().__init__(self.data_dir / "label-studio.log", startup_timeout_s)
        self.fixed_port = port
        self.port: int | None = port
        self.executable = executable
        self.credentials = self._load_or_create_credentials(username)

    @property
    def url(self) -> str:
        if self.port is None:
            raise UnavailableError("Label Studio has no port yet: call start() first")
        return f"http://127.0.0.1:{self.port}"

    def _load_or_create_credentials(self, username: str) -> LabelStudioCredentials:
        path = self.data_dir / CREDENTIALS_FILE
        if path.is_file():
            return LabelStudioCredentials(**json.loads(path.read_text()))
        credentials = LabelStudioCredentials.generate(username)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(credentials), indent=2) + "\n")
        path.chmod(0o600)
        return credentials

    def command(self) -> list[str]:
        executable = find_label_studio(self.executable)
        self.port = self.fixed_port or free_port()
        return [
            str(executable), "start", "--no-browser", "--enable-legacy-api-token",
            "--internal-host", "127.0.0.1", "--port", str(self.port),
            "--data-dir", str(self.data_dir),
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        """The child's environment: LS §8's offline, loopback-friendly settings."""
        home = self.data_dir / "home"
        home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
        env.update(
            HOME=str(home),
            LABEL_STUDIO_BASE_DATA_DIR=str(self.data_dir),
            DJANGO_DB="sqlite",
            LABEL_STUDIO_USERNAME=self.credentials.username,
            LABEL_STUDIO_PASSWORD=self.credentials.password,
            LABEL_STUDIO_USER_TOKEN=self.credentials.token,
            LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",
            ML_BLOCK_LOCAL_IP="false",
            SSRF_PROTECTION_ENABLED="false",
            LATEST_VERSION_CHECK="false",
            COLLECT_ANALYTICS="false",
            SENTRY_DSN="",
            FRONTEND_SENTRY_DSN="",
            PYTHONUNBUFFERED="1",
        )
        return env

    def healthy(self, answer: requests.Response) -> bool:
        return answer.ok and answer.json().get("status") == "UP"
