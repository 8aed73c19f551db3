"""One typed, frozen settings object for the service, the worker and the CLI.

Sources, later ones winning: the defaults below < an optional config file (TOML, JSON or
YAML; ``--config`` or ``DATAEFF_CONFIG``) < environment variables ``DATAEFF_<FIELD>`` (and
``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_API_KEY``, the names Label Studio's own tools use)
< explicit overrides (command-line options). Everything is validated once, in
:meth:`Settings.load`; a bad value raises :class:`~dataeff.errors.ConfigError` naming the
field, where it came from and the value. Code receives a ``Settings`` and never reads
``os.environ`` itself.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dataeff.errors import ConfigError

ENV_PREFIX = "DATAEFF_"
# fields whose environment variable is the Label Studio ecosystem's name, not DATAEFF_*
_ENV_ALIASES = {
    "label_studio_url": ("LABEL_STUDIO_URL", "DATAEFF_LABEL_STUDIO_URL"),
    "label_studio_api_key": ("LABEL_STUDIO_API_KEY", "DATAEFF_LABEL_STUDIO_API_KEY"),
}
_QUEUES = ("thread", "inline")
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")   # also part of RQ job ids
_SYNC_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dataeff"


@dataclass(frozen=True)
class Settings:
    """Service settings; field ``x`` is read from env ``DATAEFF_X`` unless noted."""

    host: str = "127.0.0.1"
    port: int = 9090
    data_dir: Path = field(default_factory=_default_data_dir)
    db_url: str | None = None            # default: sqlite:///<data_dir>/dataeff.sqlite3
    db_auto_migrate: bool = True         # run Alembic migrations to head at start
    sqlite_synchronous: str = "NORMAL"   # WAL + NORMAL survives a process crash (kill -9)
    cache_dir: Path | None = None        # model cache (prepared embedded model, downloads)
    model: str | None = None             # None: the embedded SmolLM2-135M-Instruct
    device: str = "auto"
    scorer_factory: str = "dataeff.estimator:load_scorer"   # "module:callable"
    model_version: str = "dataeff-conf-v1"   # /setup answer and every prediction's version
    queue: str = "thread"                # thread (one resident worker) | inline (tests) |
                                         # redis://host:6379/0 (RQ; run `dataeff worker`)
    queue_name: str = "dataeff"          # RQ queue name and Redis key namespace
    job_timeout_s: int = 3600            # RQ stops a job running longer (then it is re-run)
    lease_ttl_s: float = 60.0            # a project's lease lapses this long after the last
    lease_heartbeat_s: float = 10.0      # heartbeat of its job (every lease_heartbeat_s)
    sweep_interval_s: float = 15.0       # re-enqueue projects with work and no live lease
    http_threads: int = 8
    torch_threads: int = field(default_factory=lambda: max(1, (os.cpu_count() or 2) - 1))
    preload_model: bool = True           # load the default model when the worker starts
    confidence_batch_size: int = 16
    confidence_budget_s: float = 120.0   # confidence pass per job; the rest in the next job
    coalesce_s: float = 0.5              # a job starts this long after its first event
    runner_start_delay_s: float = 0.0    # delay before the worker starts taking jobs
    reconcile_interval_s: float = 600.0  # 0 disables the periodic reconcile
    status_refresh_tasks: int = 10       # predictions refreshed per estimate (serving order)
    event_retention_s: float = 7 * 86400.0
    max_body_bytes: int = 16 * 1024 * 1024
    label_studio_url: str | None = None
    label_studio_api_key: str | None = None
    label_studio_timeout_s: float = 10.0
    basic_auth_user: str | None = None
    basic_auth_pass: str | None = None
    webhook_secret: str | None = None
    log_level: str = "INFO"

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL in use (``db_url`` or the SQLite file in ``data_dir``)."""
        return self.db_url or f"sqlite:///{self.data_dir / 'dataeff.sqlite3'}"

    @property
    def queue_url(self) -> str | None:
        """The Redis URL when ``queue`` names one (RQ workers run the jobs), else ``None``."""
        return self.queue if self.queue.startswith(_REDIS_SCHEMES) else None

    @property
    def basic_auth_enabled(self) -> bool:
        return self.basic_auth_user is not None

    @classmethod
    def load(
        cls,
        config_file: str | Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> Settings:
        """Build and validate settings from a file, the environment and overrides.

        ``config_file`` defaults to env ``DATAEFF_CONFIG``; ``env`` defaults to ``os.environ``.
        """
        env = os.environ if env is None else env
        raw: dict[str, tuple[Any, str]] = {}
        path = config_file or env.get("DATAEFF_CONFIG")
        if path:
            for key, value in _read_file(Path(path)).items():
                raw[key] = (value, f"config file {path}")
        for f in fields(cls):
            for name in _ENV_ALIASES.get(f.name, (ENV_PREFIX + f.name.upper(),)):
                if name in env and env[name] != "":
                    raw[f.name] = (env[name], f"env {name}")
        for key, value in (overrides or {}).items():
            if value is not None:
                raw[key] = (value, "command line")
        return cls.from_mapping(raw)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, tuple[Any, str]]) -> Settings:
        """Validate ``{field: (value, source)}``; unknown fields and bad values raise."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            sources = sorted({raw[k][1] for k in unknown})
            raise ConfigError(f"unknown setting(s) {unknown} in {', '.join(sources)}")
        values = {name: _coerce(known[name], value, source) for name, (value, source) in
                  raw.items()}
        settings = cls(**values)
        settings.validate()
        return settings

    def replace(self, **changes: Any) -> Settings:
        new = dataclasses.replace(self, **changes)
        new.validate()
        return new

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first inconsistent field."""
        _check(1 <= self.port <= 65535, "port", self.port, "must be in 1..65535")
        _check(self.queue in _QUEUES or self.queue_url is not None, "queue",
               _redact(self.queue), f"must be one of {list(_QUEUES)} or a Redis URL "
               "(redis://host:6379/0, rediss://..., unix://...)")
        _check(_QUEUE_NAME.fullmatch(self.queue_name) is not None, "queue_name",
               self.queue_name, "must be 1-64 letters, digits, '_' or '-'")
        for name in ("lease_ttl_s", "lease_heartbeat_s", "sweep_interval_s"):
            _check(getattr(self, name) > 0, name, getattr(self, name), "must be > 0")
        _check(self.lease_heartbeat_s * 2 <= self.lease_ttl_s, "lease_heartbeat_s",
               self.lease_heartbeat_s, f"must be at most half of lease_ttl_s "
               f"({self.lease_ttl_s}), so one missed heartbeat does not lose the lease")
        _check(self.sqlite_synchronous in _SYNC_MODES, "sqlite_synchronous",
               self.sqlite_synchronous, f"must be one of {list(_SYNC_MODES)}")
        _check(self.log_level in _LOG_LEVELS, "log_level", self.log_level,
               f"must be one of {list(_LOG_LEVELS)}")
        for name in ("http_threads", "torch_threads", "confidence_batch_size",
                     "max_body_bytes", "job_timeout_s"):
            _check(getattr(self, name) >= 1, name, getattr(self, name), "must be >= 1")
        for name in ("coalesce_s", "runner_start_delay_s", "confidence_budget_s",
                     "reconcile_interval_s", "event_retention_s", "status_refresh_tasks"):
            _check(getattr(self, name) >= 0, name, getattr(self, name), "must be >= 0")
        _check(self.label_studio_timeout_s > 0, "label_studio_timeout_s",
               self.label_studio_timeout_s, "must be > 0")
        _check(":" in self.scorer_factory, "scorer_factory", self.scorer_factory,
               "must look like 'package.module:callable'")
        _check(bool(self.model_version.strip()), "model_version", self.model_version,
               "must not be empty")
        _check((self.basic_auth_user is None) == (self.basic_auth_pass is None),
               "basic_auth_pass" if self.basic_auth_user else "basic_auth_user", None,
               "DATAEFF_BASIC_AUTH_USER and DATAEFF_BASIC_AUTH_PASS must be set together")
        if self.label_studio_url is not None:
            _check(self.label_studio_url.startswith(("http://", "https://")),
                   "label_studio_url", self.label_studio_url, "must start with http(s)://")
            _check(self.label_studio_api_key is not None, "label_studio_api_key", None,
                   "LABEL_STUDIO_API_KEY is required when LABEL_STUDIO_URL is set")
        if self.db_url is not None:
            _check(self.db_url.startswith(("sqlite", "postgresql")), "db_url",
                   _redact(self.db_url), "must be a sqlite:// or postgresql+psycopg:// URL")

    def public(self) -> dict[str, Any]:
        """The settings as JSON-safe values with secrets masked (for logs and `config`)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in {"label_studio_api_key", "basic_auth_pass", "webhook_secret"}:
                value = None if value is None else "***"
            elif f.name in {"db_url", "queue"} and value is not None:
                value = _redact(value)
            elif isinstance(value, Path):
                value = str(value)
            out[f.name] = value
        out["database_url"] = _redact(self.database_url)
        return out


def _check(ok: bool, name: str, value: object, why: str) -> None:
    if not ok:
        shown = "" if value is None else f" (got {value!r})"
        raise ConfigError(f"setting {name}{shown}: {why}")


def _redact(url: str) -> str:
    """Hide a password in a database URL."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        if ":" in creds:
            return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(f"config file {path}: cannot read ({error.strerror})") from None
    try:
        if path.suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif path.suffix == ".json":
            data = json.loads(text)
        elif path.suffix in {".yaml", ".yml"}:
            import yaml

            data = yaml.safe_load(text)
        else:
            raise ConfigError(f"config file {path}: use a .toml, .json, .yaml or .yml file")
    except (ValueError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"config file {path}: not valid {path.suffix[1:]}: {error}") from None
    except ImportError:  # pragma: no cover - pyyaml is a pinned dependency
        raise ConfigError(f"config file {path}: YAML needs the pyyaml package") from None
    if hasattr(data, "get") and isinstance(data.get("dataeff"), dict):
        data = data["dataeff"]          # allow a [dataeff] table / top-level key
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: must hold a table/object of settings")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(f: dataclasses.Field[Any], value: Any, source: str) -> Any:
    """Turn a raw value (env strings included) into the field's type, or raise."""
    kind = str(f.type)
    optional = "None" in kind
    where = f"setting {f.name} (from {source})"
    if optional and (value is None or (isinstance(value, str) and value.lower() == "none")):
        return None
    try:
        if kind.startswith("bool"):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE | _FALSE:
                return text in _TRUE
            raise ValueError("expected true/false")
        if kind.startswith("int"):
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError("expected an integer")
            if isinstance(value, str) and not value.strip().lstrip("+-").isdigit():
                raise ValueError("expected an integer")
            return int(value)
        if kind.startswith("float"):
            if isinstance(value, bool):
                raise ValueError("expected a number")
            number = float(value)
            if not math.isfinite(number):
                raise ValueError("expected a finite number")
            return number
        if kind.startswith("Path"):
            if not isinstance(value, str | Path):
                raise ValueError("expected a path")
            return Path(value).expanduser()
        if not isinstance(value, str):
            raise ValueError("expected a string")
        text = value.strip()
        if f.name in {"sqlite_synchronous", "log_level"}:
            text = text.upper()
        return text
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{where}: {error}, got {value!r}") from None
