"""The child-process managers: start, health wait, stop by pid, failures with the log tail."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest
import requests

from dataeff.demo.backend_process import BackendProcess
from dataeff.errors import NotFoundError, UnavailableError
from dataeff.labelstudio import localserver
from dataeff.labelstudio.localserver import LocalLabelStudio, ServerProcess, free_port

HEALTH_SERVER = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
        self.wfile.write(b'{"status": "UP"}')
    def log_message(self, *args):
        print("request", self.path, flush=True)
print("listening", flush=True)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


class _Child(ServerProcess):
    name = "test child"

    def __init__(self, tmp: Path, code: str, timeout_s: float = 20.0) -> None:
        super().__init__(tmp / "child.log", timeout_s)
        self.code = code
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-c", self.code, str(self.port)]

    def environment(self) -> dict[str, str]:
        return {"PATH": "/usr/bin:/bin"}


def test_start_waits_for_health_and_stop_ends_the_process(tmp_path: Path) -> None:
    child = _Child(tmp_path, HEALTH_SERVER)
    with child:
        assert child.process is not None
        process = child.process
        assert requests.get(f"{child.url}/health", timeout=5).status_code == 200
    assert process.poll() is not None  # stopped by its pid on exit
    assert "listening" in child.log_tail()


def test_a_child_that_dies_fails_the_start_with_its_log(tmp_path: Path) -> None:
    child = _Child(tmp_path, "print('boom: no database'); raise SystemExit(3)")
    with pytest.raises(UnavailableError, match=r"(?s)test child exited with code 3.*boom"):
        child.start()
    assert child.process is None


def test_a_child_that_never_gets_healthy_times_out(tmp_path: Path) -> None:
    child = _Child(tmp_path, "import time; print('stuck', flush=True); time.sleep(60)", 1.5)
    with pytest.raises(UnavailableError, match=r"(?s)did not answer .*/health within 2 s.*stuck"):
        child.start()


def test_label_studio_credentials_are_made_once_and_kept(tmp_path: Path) -> None:
    first = LocalLabelStudio(tmp_path / "ls")
    again = LocalLabelStudio(tmp_path / "ls")
    assert first.credentials == again.credentials
    assert len(first.credentials.token) == 40
    mode = (tmp_path / "ls" / localserver.CREDENTIALS_FILE).stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    env = first.environment()
    assert env["LABEL_STUDIO_USER_TOKEN"] == first.credentials.token
    assert (env["ML_BLOCK_LOCAL_IP"], env["SSRF_PROTECTION_ENABLED"]) == ("false", "false")
    assert env["LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN"] == "true"
    assert env["HOME"].startswith(str(tmp_path / "ls"))


def test_a_missing_label_studio_names_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAEFF_LABEL_STUDIO_BIN", str(tmp_path / "nope"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(localserver, "_REPO_ROOT", tmp_path)
    with pytest.raises(NotFoundError, match="run `make labelstudio`"):
        localserver.find_label_studio()


def test_the_backend_gets_embedded_defaults_and_the_secret(tmp_path: Path) -> None:
    backend = BackendProcess(tmp_path / "b", "http://127.0.0.1:1", "key", secret="s",
                             settings={"DATAEFF_RECONCILE_INTERVAL_S": "5"})  # fmt: skip
    env = backend.environment()
    assert env["DATAEFF_DATA_DIR"] == str(tmp_path / "b")
    assert (env["LABEL_STUDIO_URL"], env["LABEL_STUDIO_API_KEY"]) == ("http://127.0.0.1:1", "key")
    assert env["DATAEFF_WEBHOOK_SECRET"] == "s"
    assert env["DATAEFF_RECONCILE_INTERVAL_S"] == "5"
    assert backend.command()[-4:] == ["--host", "127.0.0.1", "--port", str(backend.port)]
