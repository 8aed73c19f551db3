"""A wire-compatible stand-in for the dataeff backend (LS §1, §9) that records every call.

It lets the `dataeff connect` tests check, against a real Label Studio, exactly what Label
Studio sends (setup parameters, webhook headers and events, START_TRAINING) without loading a
model. The real backend is exercised by the other e2e tests.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

MODEL_VERSION = "fake-conf-v1"


@dataclass
class Recorded:
    """Calls the fake received, in order: (route, headers, JSON body)."""

    calls: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, route: str) -> list[tuple[dict[str, str], Any]]:
        with self.lock:
            return [(h, b) for r, h, b in self.calls if r == route]


def create_fake_app(recorded: Recorded) -> Flask:
    app = Flask("fake_dataeff")

    def record(route: str) -> Any:
        body = request.get_json(silent=True)
        with recorded.lock:
            recorded.calls.append((route, dict(request.headers), body))
        return body

    @app.get("/health")
    def health() -> Any:
        record("/health")
        return jsonify(status="UP", model_class="FakeDataeff")

    @app.post("/setup")
    def setup() -> Any:
        record("/setup")
        return jsonify(model_version=MODEL_VERSION)

    @app.post("/predict")
    def predict() -> Any:
        body = record("/predict") or {}
        tasks = body.get("tasks") or []
        return jsonify(results=[{"result": [], "score": 0.5, "model_version": MODEL_VERSION}
                                for _ in tasks])

    @app.post("/webhook")
    def webhook() -> Any:
        record("/webhook")
        return jsonify(status="ok"), 200

    return app


class FakeBackend:
    """The fake app served on 127.0.0.1:<port> in a daemon thread."""

    def __init__(self) -> None:
        self.recorded = Recorded()
        self.server = make_server("127.0.0.1", 0, create_fake_app(self.recorded), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeBackend:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
