"""Run ``dataeff serve`` as a child process for the demo, ``make up`` and the e2e tests.

The child gets the embedded defaults (SQLite in ``data_dir``, the in-process queue, the
embedded SmolLM2 from ``$DATAEFF_CACHE_DIR``) through its ``DATAEFF_*`` environment
(see :mod:`dataeff.settings`); it listens on ``127.0.0.1:<port>`` and is stopped by its process
id. Stopping and starting again on the same ``data_dir`` and port is how the e2e tests check
that reconcile recovers annotations made while the backend was down.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from dataeff.labelstudio.localserver import ServerProcess, free_port

_MAIN = "import sys; from dataeff.cli import main; sys.exit(main())"


class BackendProcess(ServerProcess):
    """``dataeff serve`` on ``127.0.0.1:<port>`` talking to Label Studio at ``ls_url``.

    ``data_dir`` holds the SQLite store and ``backend.log``. ``secret`` is the webhook secret
    (``DATAEFF_WEBHOOK_SECRET``); ``settings`` adds ``DATAEFF_*`` variables (e.g.
    ``{"DATAEFF_RECONCILE_INTERVAL_S": "5"}``). The port stays the same across restarts, so
    Label Studio keeps reaching the backend it registered.
    """

    name = "dataeff serve"

    def __init__(
        self,
        data_dir: Path,
        ls_url: str,
        api_key: str,
        *,
        port: int | None = None,
        secret: str | None = None,
        settings: Mapping[str, str] | None = None,
        startup_timeout_s: float = 120.0,
    ) -> None:
        self.data_dir = data_dir.resolve()
        super().__init__(self.data_dir / "backend.log", startup_timeout_s)
        self.ls_url = ls_url
        self.api_key = api_key
        self.port = port or free_port()
        self.secret = secret
        self.settings = dict(settings or {})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-c", _MAIN, "serve", "--host", "127.0.0.1",
                "--port", str(self.port)]  # fmt: skip

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DATAEFF_DATA_DIR=str(self.data_dir),
            LABEL_STUDIO_URL=self.ls_url,
            LABEL_STUDIO_API_KEY=self.api_key,
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            TOKENIZERS_PARALLELISM="false",
            PYTHONUNBUFFERED="1",
        )
        if self.secret is not None:
            env["DATAEFF_WEBHOOK_SECRET"] = self.secret
        env.update(self.settings)
        return env
