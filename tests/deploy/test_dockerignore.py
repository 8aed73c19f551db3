"""The build context: local state stays out, and what is left builds the package.

The context is what `docker build .` sends: the working tree filtered by .dockerignore.
The last test rebuilds that context in a temporary folder and runs the same `pip` build the
Dockerfile's `pip install .` runs (without dependencies and network), so a pattern that drops
a package file, or a Dockerfile COPY of a file the context lacks, fails here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import deploy_files as df
import pytest


@pytest.fixture(scope="module")
def ignore() -> df.DockerIgnore:
    return df.DockerIgnore(df.DOCKERIGNORE.read_text())


def _working_tree() -> list[str]:
    """Tracked and untracked-but-not-ignored files, as a checkout would have them."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=df.ROOT,
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout.decode()
    return sorted(p for p in listed.split("\0") if p and (df.ROOT / p).is_file())


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        ".venv-ls/bin/label-studio",
        ".cache/dataeff/models/x.safetensors",
        "test-output/report.json",
        "demo-output/curve.png",
        ".git/HEAD",
        ".mypy_cache/3.11/x.json",
        ".pytest_cache/v/cache",
        ".ruff_cache/x",
        ".hypothesis/examples/x",
        "tests/conftest.py",
        "bench/estimator.py",
        "docs/architecture.md",
        "deploy/.env",
        "deploy/k8s/secret.yaml",
        "deploy/docker-compose.yml",
        "backend/dataeff/__pycache__/cli.cpython-311.pyc",
        "backend/dataeff.egg-info/PKG-INFO",
        "build/lib/dataeff/__init__.py",
        "dist/dataeff-0.1.0.whl",
        "dataeff.sqlite3",
    ],
)
def test_local_state_stays_out(ignore: df.DockerIgnore, path: str) -> None:
    assert ignore.excluded(path), f"{path} would be sent to the Docker daemon"


def test_the_package_and_the_copied_files_are_in(
    ignore: df.DockerIgnore,
    dockerfile: list[df.Instruction],
) -> None:
    tree = _working_tree()
    package = [p for p in tree if p.startswith("backend/dataeff/")]
    assert package, "no package files found"
    assert [p for p in package if ignore.excluded(p)] == []
    assert not ignore.excluded("pyproject.toml")
    assert not ignore.excluded("requirements/constraints.txt")
    for instruction in dockerfile:
        if instruction.keyword == "COPY" and "from" not in instruction.flags():
            for source in instruction.arguments()[:-1]:
                if source != ".":
                    assert (df.ROOT / source).is_file(), f"COPY {source}: no such file"
                    assert not ignore.excluded(source), f"COPY {source}: excluded by .dockerignore"


@pytest.mark.integration  # a pip subprocess, about 5 s
def test_the_context_builds_the_dataeff_wheel(ignore: df.DockerIgnore, tmp_path: Path) -> None:
    context = tmp_path / "context"
    for relative in _working_tree():
        if not ignore.excluded(relative):
            target = context / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(df.ROOT / relative, target)
    sent = sorted(str(p.relative_to(context)) for p in context.rglob("*") if p.is_file())
    assert all(
        p.startswith(("backend/", "requirements/")) or "/" not in p or p == "deploy/healthcheck.py"
        for p in sent
    ), sent
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-cache-dir",
            "--quiet",
            "--wheel-dir",
            str(tmp_path / "dist"),
            str(context),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    wheels = list((tmp_path / "dist").glob("dataeff-*.whl"))
    assert len(wheels) == 1
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "dataeff = dataeff.cli:main" in wheel.read(entry_points).decode()
    expected = {
        p.removeprefix("backend/")
        for p in sent
        if p.startswith("backend/dataeff/") and p.endswith(".py")
    }
    assert expected and expected <= set(names)
