"""Run `dataeff serve` as a real subprocess on a free loopback port (integration tests and
bench/webhook.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SERVICE_TESTS = ROOT / "tests" / "service"
_LAUNCH = "from dataeff.cli import main; raise SystemExit(main(['serve']))"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ChildProcess:
    """A subprocess a test started (``proc``): kill -9, or a graceful SIGTERM stop."""

    proc: subprocess.Popen[bytes] | None = None

    def kill(self) -> None:
        """kill -9: no shutdown hook runs (a lease is never released)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout_s: float = 30.0) -> int:
        """SIGTERM, then SIGKILL after ``timeout_s``; returns the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return int(self.proc.returncode)


class ServiceProcess(ChildProcess):
    """`dataeff serve` with DATAEFF_* settings from ``env``; logs go to ``log_path``."""

    def __init__(self, data_dir: Path, env: dict[str, str], extra_path: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / f"serve-{self.port}.log"
        paths = [str(ROOT / "backend"), str(SERVICE_TESTS)]
        if extra_path is not None:
            paths.append(str(extra_path))
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths),
                    "DATAEFF_DATA_DIR": str(data_dir), "DATAEFF_PORT": str(self.port),
                    "DATAEFF_HOST": "127.0.0.1", "DATAEFF_RECONCILE_INTERVAL_S": "0", **env}
        for key in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "DATAEFF_CONFIG"):
            if key not in env:
                self.env.pop(key, None)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> ServiceProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-c", _LAUNCH], env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dataeff serve exited: {self.log_path.read_text()[-2000:]}")
            try:
                self.get("/health")
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dataeff serve did not answer /health in {timeout_s} s")

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.loads(response.read())

    def get_text(self, path: str) -> str:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            text: str = response.read().decode()
            return text

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def wait_estimate(self, project: int, done: Any, timeout_s: float = 60.0) -> Any:
        """Poll the estimate until ``done(body)`` holds."""
        deadline = time.monotonic() + timeout_s
        body = None
        while time.monotonic() < deadline:
            try:
                body = self.get(f"/api/projects/{project}/estimate")
                if done(body):
                    return body
            except urllib.error.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"estimate never settled; last: {body}")
