"""Settings: defaults < file < environment < overrides; errors name field, source, value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataeff.errors import ConfigError
from dataeff.settings import Settings


def test_defaults_are_valid_and_embedded() -> None:
    s = Settings.load(env={})
    assert s.port == 9090 and s.queue == "thread" and s.model is None
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("dataeff.sqlite3")
    assert s.max_body_bytes == 16 * 1024 * 1024


@pytest.mark.parametrize("suffix", [".toml", ".json", ".yaml"])
def test_file_then_env_then_overrides(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"dataeff{suffix}"
    if suffix == ".toml":
        path.write_text('port = 9100\ncoalesce_s = 2.5\nmodel = "m"\n')
    elif suffix == ".json":
        path.write_text(json.dumps({"port": 9100, "coalesce_s": 2.5, "model": "m"}))
    else:
        path.write_text("port: 9100\ncoalesce_s: 2.5\nmodel: m\n")
    s = Settings.load(path, env={"DATAEFF_COALESCE_S": "0.25", "LABEL_STUDIO_URL": "http://x",
                                 "LABEL_STUDIO_API_KEY": "k"}, overrides={"port": 9200})
    assert (s.port, s.coalesce_s, s.model) == (9200, 0.25, "m")
    assert s.label_studio_url == "http://x"


def test_config_file_from_env_and_table(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[dataeff]\nhttp_threads = 3\npreload-model = false\n")
    s = Settings.load(env={"DATAEFF_CONFIG": str(path)})
    assert s.http_threads == 3 and s.preload_model is False


@pytest.mark.parametrize(("env", "needle"), [
    ({"DATAEFF_PORT": "ninety"}, "setting port (from env DATAEFF_PORT)"),
    ({"DATAEFF_PORT": "70000"}, "setting port (got 70000)"),
    ({"DATAEFF_COALESCE_S": "-1"}, "setting coalesce_s"),
    ({"DATAEFF_PRELOAD_MODEL": "maybe"}, "expected true/false"),
    ({"DATAEFF_QUEUE": "kafka"}, "setting queue"),
    ({"DATAEFF_BASIC_AUTH_USER": "u"}, "must be set together"),
    ({"LABEL_STUDIO_URL": "localhost:8080"}, "must start with http"),
    ({"LABEL_STUDIO_URL": "http://ls"}, "LABEL_STUDIO_API_KEY is required"),
    ({"DATAEFF_DB_URL": "mysql://x"}, "setting db_url"),
    ({"DATAEFF_SCORER_FACTORY": "nocolon"}, "setting scorer_factory"),
    ({"DATAEFF_MAX_BODY_BYTES": "1.5"}, "expected an integer"),
])
def test_bad_values_name_the_field(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=None) as info:
        Settings.load(env=env)
    assert needle in str(info.value)


def test_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "x.toml"
    bad.write_text("port = [")
    with pytest.raises(ConfigError, match="not valid toml"):
        Settings.load(bad, env={})
    with pytest.raises(ConfigError, match="cannot read"):
        Settings.load(tmp_path / "missing.json", env={})
    unknown = tmp_path / "u.json"
    unknown.write_text('{"prot": 1}')
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) \['prot'\]"):
        Settings.load(unknown, env={})
    ini = tmp_path / "x.ini"
    ini.write_text("[dataeff]\nport = 1\n")
    with pytest.raises(ConfigError, match=r"use a \.toml"):
        Settings.load(ini, env={})


def test_public_view_masks_secrets() -> None:
    s = Settings.load(env={"DATAEFF_WEBHOOK_SECRET": "s", "LABEL_STUDIO_URL": "http://x",
                           "LABEL_STUDIO_API_KEY": "key",
                           "DATAEFF_DB_URL": "postgresql+psycopg://u:pw@h/db"})
    shown = s.public()
    assert shown["webhook_secret"] == "***" and shown["label_studio_api_key"] == "***"
    assert "pw" not in json.dumps(shown)
