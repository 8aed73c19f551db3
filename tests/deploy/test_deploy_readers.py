"""The file readers behind the deployment checks follow their tools' documented rules."""

from __future__ import annotations

import deploy_files as df
import pytest

DOCKERFILE = """\
# syntax=docker/dockerfile:1
ARG BASE=python:3.11-slim
FROM ${BASE} AS base
ENV A=1 \\
    # a comment inside a continuation is dropped
    B="two words"
RUN echo one \\
    && echo two
FROM base
COPY --from=base --chown=1:1 /src /dst
HEALTHCHECK --interval=5s CMD ["python", "-c", "print(1)"]
CMD ["serve", "--port", "9090"]
"""


def test_dockerfile_instructions_stages_and_continuations() -> None:
    parsed = df.parse_dockerfile(DOCKERFILE)
    assert [i.keyword for i in parsed] == [
        "ARG",
        "FROM",
        "ENV",
        "RUN",
        "FROM",
        "COPY",
        "HEALTHCHECK",
        "CMD",
    ]
    assert df.stage_names(parsed) == ["base", "1"]
    assert parsed[0].stage == "global"
    env = parsed[2]
    assert env.env_pairs() == {"A": "1", "B": "two words"}
    assert env.line == 4
    assert parsed[3].value == "echo one && echo two"
    copy = parsed[5]
    assert copy.flags() == {"from": "base", "chown": "1:1"}
    assert copy.arguments() == ["/src", "/dst"]
    assert parsed[6].exec_form() == ["python", "-c", "print(1)"]
    assert parsed[7].exec_form() == ["serve", "--port", "9090"]
    assert parsed[3].exec_form() is None
    assert [i.keyword for i in df.in_stage(parsed, "1")] == ["FROM", "COPY", "HEALTHCHECK", "CMD"]


def test_dockerfile_ending_inside_a_continuation_is_an_error() -> None:
    with pytest.raises(ValueError, match="continuation"):
        df.parse_dockerfile("FROM x\nRUN a \\\n")


@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        ("*", "anything/at/all.txt", True),
        ("*\n!backend/", "backend/dataeff/cli/__init__.py", False),
        ("*\n!backend/\n**/__pycache__", "backend/dataeff/__pycache__/x.pyc", True),
        ("*\n!backend/\n**/*.py[cod]", "backend/dataeff/x.pyc", True),
        ("*\n!backend/\n**/*.py[cod]", "backend/dataeff/x.py", False),
        ("*.md\n!README.md", "README.md", False),
        ("*.md\n!README.md", "CHANGES.md", True),
        ("*.md", "docs/a.md", False),  # one-segment pattern: the root only, as in Docker
        ("**/*.md", "docs/a.md", True),
        ("/build/", "build/lib/x.py", True),
        ("tests", "tests_extra/x.py", False),
        ("!keep\n*", "keep", True),  # the last matching pattern wins
        ("deploy/*.py", "deploy/healthcheck.py", True),
        ("deploy/*.py", "deploy/k8s/x.py", False),
    ],
)
def test_dockerignore_matching(patterns: str, path: str, excluded: bool) -> None:
    assert df.DockerIgnore(patterns).excluded(path) is excluded


def test_env_file_values_and_commented_names() -> None:
    values, commented = df.env_file("# intro\nA=1\nB=\n# C=3\n#   D=\n# not a var\n")
    assert values == {"A": "1", "B": ""}
    assert commented == {"C", "D"}


def test_interpolations_and_escapes() -> None:
    text = "a: ${X}\nb: ${Y:-def}\nc: ${Z:?say why}\nd: $$notavar ${W-x}\ne: $BARE"
    found = df.interpolations(text)
    assert [(i.name, i.operator, i.argument) for i in found] == [
        ("X", "", ""),
        ("Y", ":-", "def"),
        ("Z", ":?", "say why"),
        ("W", "-", "x"),
    ]
    assert df.bare_dollars(text) == ["$BARE"]
