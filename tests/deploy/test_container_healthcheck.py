"""deploy/healthcheck.py against a real HTTP server on loopback."""

from __future__ import annotations

import base64
import importlib.util
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType

import deploy_files as df
import pytest


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dataeff_healthcheck", df.HEALTHCHECK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


healthcheck = _load_script()


@dataclass
class Reply:
    """What the fake service answers, and the Authorization headers it received."""

    status: int = 200
    body: bytes = b'{"status": "UP", "model_class": "DataEff"}'
    required_auth: str | None = None
    seen_auth: list[str | None] = field(default_factory=list)


@pytest.fixture
def service() -> Iterator[tuple[str, Reply]]:
    reply = Reply()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            auth = self.headers.get("Authorization")
            reply.seen_auth.append(auth)
            status, body = reply.status, reply.body
            if reply.required_auth is not None and auth != reply.required_auth:
                status, body = 401, b'{"error": "auth"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/health", reply
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_healthy_service_passes(service: tuple[str, Reply]) -> None:
    url, reply = service
    assert healthcheck.main([url], env={}) == 0
    assert reply.seen_auth == [None]


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (200, b'{"status": "DOWN"}', "expected a JSON object with status UP"),
        (200, b"<html>ok</html>", "not JSON"),
        (200, b'["UP"]', "expected a JSON object"),
        (500, b'{"error": "boom"}', "HTTP 500"),
        (503, b'{"status": "UP"}', "HTTP 503"),
    ],
)
def test_unhealthy_answers_fail_with_a_reason(
    service: tuple[str, Reply],
    capsys: pytest.CaptureFixture[str],
    status: int,
    body: bytes,
    reason: str,
) -> None:
    url, reply = service
    reply.status, reply.body = status, body
    assert healthcheck.main([url], env={}) == 1
    assert reason in capsys.readouterr().err


def test_basic_auth_is_sent_when_both_credentials_are_set(service: tuple[str, Reply]) -> None:
    url, reply = service
    reply.required_auth = "Basic " + base64.b64encode(b"ls:s3cr:t").decode()
    assert healthcheck.main([url], env={}) == 1
    assert healthcheck.main([url], env={"DATAEFF_BASIC_AUTH_USER": "ls"}) == 1
    env = {"DATAEFF_BASIC_AUTH_USER": "ls", "DATAEFF_BASIC_AUTH_PASS": "s3cr:t"}
    assert healthcheck.main([url], env=env) == 0
    assert reply.seen_auth == [None, None, reply.required_auth]


def _run_isolated(url: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The healthcheck as the image runs it: ``python -I`` (standard library only)."""
    return subprocess.run([sys.executable, "-I", str(df.HEALTHCHECK), url], env=env,
                          capture_output=True, text=True, timeout=30, check=False)


def test_proxy_settings_are_ignored(service: tuple[str, Reply]) -> None:
    """A fresh process, as urllib reads proxy variables when its first opener is built."""
    url, _ = service
    proxy = "http://127.0.0.1:9/"  # the discard port: nothing answers there
    env = {"PATH": "/usr/bin:/bin", "http_proxy": proxy, "HTTP_PROXY": proxy, "all_proxy": proxy}
    result = _run_isolated(url, env)
    assert (result.returncode, result.stderr) == (0, "")


def test_nothing_listening_fails(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert healthcheck.main([f"http://127.0.0.1:{port}/health"], env={}) == 1
    assert "failed" in capsys.readouterr().err


def test_usage_error() -> None:
    assert healthcheck.main(["a", "b"], env={}) == 2


def test_runs_standalone_like_the_image_does(service: tuple[str, Reply]) -> None:
    """Isolated mode (-I): no site-packages, no dataeff; only the standard library."""
    url, reply = service
    ok = _run_isolated(url)
    assert (ok.returncode, ok.stderr) == (0, "")
    reply.body = json.dumps({"status": "STARTING"}).encode()
    bad = _run_isolated(url)
    assert bad.returncode == 1 and bad.stderr.startswith("unhealthy: ")
