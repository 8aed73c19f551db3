"""Readers for the deployment files (Dockerfile, .dockerignore, compose, env, Kubernetes).

No Docker engine, compose plugin or cluster runs where the tests run, so the tests in this
folder read the files the way those tools would and check what the tools would reject or
silently get wrong. The readers are small on purpose; each follows the documented rules of
the tool it stands in for, and tests/deploy/test_deploy_readers.py pins those rules with examples.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
ENV_EXAMPLE = DEPLOY / ".env.example"
K8S = DEPLOY / "k8s"
README = DEPLOY / "README.md"
HEALTHCHECK = DEPLOY / "healthcheck.py"
POSTGRES_INIT = DEPLOY / "postgres" / "init-labelstudio.sh"


# --- Dockerfile -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction: ``keyword`` upper-cased, ``value`` with continuations joined."""

    keyword: str
    value: str
    line: int  # 1-based line of the keyword
    stage: str  # the stage's AS name, or its index as a string when it has none

    def exec_form(self) -> list[str] | None:
        """The JSON array of CMD/ENTRYPOINT/SHELL/HEALTHCHECK CMD, or None for shell form."""
        text = self.value
        if self.keyword == "HEALTHCHECK":
            text = re.sub(r"^(--\S+\s+)*CMD\s+", "", text)
        if not text.startswith("["):
            return None
        parsed = json.loads(text)
        if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
            raise ValueError(f"line {self.line}: {self.keyword} is not a JSON list of strings")
        return parsed

    def flags(self) -> dict[str, str]:
        """Leading ``--name=value`` flags (COPY --from=..., --chown=...)."""
        flags: dict[str, str] = {}
        for token in self.value.split():
            if not token.startswith("--"):
                break
            name, _, value = token[2:].partition("=")
            flags[name] = value
        return flags

    def arguments(self) -> list[str]:
        """The words after the leading flags (COPY sources and destination, ...)."""
        words = self.value.split()
        return words[len(self.flags()) :]

    def env_pairs(self) -> dict[str, str]:
        """``ENV a=1 b=2`` (or ``ARG a=1``) as a mapping; ``ARG a`` gives ``{"a": ""}``."""
        pairs: dict[str, str] = {}
        for token in shlex.split(self.value):
            name, _, value = token.partition("=")
            pairs[name] = value
        return pairs


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions in order. Comment lines are dropped, also inside continuations (as Docker
    does); a trailing backslash joins the next line."""
    instructions: list[Instruction] = []
    stage_index = -1
    stage = "global"
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        joined = " ".join(part for part in pending if part)
        pending = []
        keyword, _, value = joined.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage_index += 1
            match = re.search(r"\s+AS\s+(\S+)$", value, flags=re.IGNORECASE)
            stage = match.group(1) if match else str(stage_index)
        instructions.append(Instruction(keyword, value.strip(), start, stage))
    if pending:
        raise ValueError("Dockerfile ends inside a line continuation")
    return instructions


def stage_names(instructions: list[Instruction]) -> list[str]:
    """Stage names in build order (the AS alias, or the index)."""
    return [i.stage for i in instructions if i.keyword == "FROM"]


def in_stage(instructions: list[Instruction], stage: str) -> list[Instruction]:
    """The instructions of one stage, its FROM first."""
    return [i for i in instructions if i.stage == stage]


# --- .dockerignore ----------------------------------------------------------------------------
@dataclass(frozen=True)
class _IgnorePattern:
    regex: re.Pattern[str]
    negated: bool
    text: str


def _glob_to_regex(pattern: str) -> str:
    """Docker's patternmatcher: Go ``filepath.Match`` per segment, plus ``**`` for any number
    of directories (zero included when followed by ``/``)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            if pattern.startswith("**/", i):
                out.append("(.*/)?")
                i += 3
            else:
                out.append(".*")
                i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("^") else body) + "]")
            i = end
        elif char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 1
        else:
            out.append(re.escape(char))
        i += 1
    return "^" + "".join(out) + "$"


class DockerIgnore:
    """``.dockerignore`` semantics: patterns relative to the context root, ``!`` re-includes,
    the last matching pattern wins, and a pattern that matches a parent directory matches
    everything below it (moby patternmatcher ``MatchesOrParentMatches``)."""

    def __init__(self, text: str) -> None:
        self.patterns: list[_IgnorePattern] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            body = line[1:].strip() if negated else line
            body = body.strip("/")
            body = re.sub(r"/+", "/", body)
            body = "/".join(part for part in body.split("/") if part != ".") or "."
            self.patterns.append(_IgnorePattern(re.compile(_glob_to_regex(body)), negated, line))

    def excluded(self, path: str) -> bool:
        """True when ``path`` (relative, ``/``-separated) is left out of the build context."""
        parts = path.strip("/").split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        result = False
        for pattern in self.patterns:
            if any(pattern.regex.match(prefix) for prefix in prefixes):
                result = not pattern.negated
        return result


# --- env files and compose interpolation ------------------------------------------------------
def env_file(text: str) -> tuple[dict[str, str], set[str]]:
    """``NAME=value`` lines of an env file, and the names only shown commented (``# NAME=``)."""
    values: dict[str, str] = {}
    commented: set[str] = set()
    for raw in text.splitlines():
        line = raw.strip()
        if match := re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line):
            values[match.group(1)] = match.group(2)
        elif match := re.fullmatch(r"#\s*([A-Z][A-Z0-9_]*)=.*", line):
            commented.add(match.group(1))
    return values, commented


@dataclass(frozen=True)
class Interpolation:
    """One ``${NAME}``, ``${NAME:-default}``, ``${NAME:?message}`` ... in a compose file."""

    name: str
    operator: str  # "", "-", ":-", "?", ":?", "+", ":+"
    argument: str


_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")


def interpolations(text: str) -> list[Interpolation]:
    """Every braced interpolation, in order (``$$`` escapes are skipped)."""
    unescaped = text.replace("$$", "")
    return [
        Interpolation(m.group(1), m.group(2) or "", m.group(3) or "")
        for m in _INTERPOLATION.finditer(unescaped)
    ]


def resolve(text: str) -> str:
    """``text`` as compose would run it with no variable set: defaults filled in, and each
    required ``${NAME:?...}`` replaced by a URL-safe stand-in ``NAME-value``."""

    def substitute(match: re.Match[str]) -> str:
        name, operator, argument = match.group(1), match.group(2) or "", match.group(3) or ""
        return argument if operator in {":-", "-"} else f"{name}-value"

    return _INTERPOLATION.sub(substitute, text)


def bare_dollars(text: str) -> list[str]:
    """``$NAME`` interpolations without braces, which this repository does not use."""
    unescaped = text.replace("$$", "")
    return re.findall(r"\$[A-Za-z_][A-Za-z0-9_]*", unescaped)


# --- YAML -------------------------------------------------------------------------------------
def load_yaml(path: Path) -> Any:
    """One YAML document (merge keys and anchors resolved, as compose does)."""
    return yaml.safe_load(path.read_text())


def k8s_documents() -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every document of every ``deploy/k8s/*.yaml`` file, kustomization included."""
    for path in sorted(K8S.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document is not None:
                yield path, document


# --- documentation ----------------------------------------------------------------------------
def documented_env_vars() -> set[str]:
    """Names in the first column of deploy/README.md's tables (rows like ``| `NAME` | ...``)."""
    return set(re.findall(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", README.read_text(), flags=re.M))
