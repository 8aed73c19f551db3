"""Fixtures for the deployment checks: the parsed Dockerfile, compose file and manifests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import deploy_files as df
import pytest


@pytest.fixture(scope="session")
def dockerfile() -> list[df.Instruction]:
    return df.parse_dockerfile(df.DOCKERFILE.read_text())


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    data = df.load_yaml(df.COMPOSE)
    assert isinstance(data, dict), f"{df.COMPOSE} is not a YAML mapping"
    return data


@pytest.fixture(scope="session")
def env_example() -> tuple[dict[str, str], set[str]]:
    return df.env_file(df.ENV_EXAMPLE.read_text())


@pytest.fixture(scope="session")
def k8s() -> list[tuple[Path, dict[str, Any]]]:
    return list(df.k8s_documents())


@pytest.fixture(scope="session")
def documented() -> set[str]:
    return df.documented_env_vars()
