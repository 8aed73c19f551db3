"""Read a project's estimate from a running backend, wait for it, and print it for people.

The JSON is that of ``GET /api/projects/<id>/estimate`` (docs/architecture.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from dataeff.errors import NotFoundError, UnavailableError

Estimate = dict[str, Any]
_VERDICTS = {
    "collecting": "collecting",
    "keep_labeling": "keep labeling",
    "target_reached": "STOP: target reached",
    "diminishing_returns": "STOP: diminishing returns",
    "target_out_of_reach": "target out of reach",
}


def fetch_estimate(backend_url: str, project: int, timeout_s: float = 10.0) -> Estimate:
    """The estimate JSON; :class:`NotFoundError` while the backend does not know the project."""
    url = f"{backend_url}/api/projects/{project}/estimate"
    try:
        answer = requests.get(url, timeout=timeout_s)
    except requests.RequestException as error:
        raise UnavailableError(f"cannot reach the dataeff backend at {url}: {error}") from error
    if answer.status_code == 404:
        raise NotFoundError(f"the dataeff backend does not know project {project} yet ({url})")
    if answer.status_code != 200:
        raise UnavailableError(f"GET {url} answered {answer.status_code}: {answer.text[:300]}")
    body: Estimate = answer.json()
    return body


def wait_for_estimate(
    backend_url: str,
    project: int,
    ready: Callable[[Estimate], bool],
    *,
    what: str,
    timeout_s: float = 600.0,
    every_s: float = 1.0,
    on_poll: Callable[[Estimate], None] | None = None,
) -> Estimate:
    """Poll the estimate until ``ready(estimate)``; :class:`UnavailableError` naming ``what``
    and the last state after ``timeout_s``. ``on_poll`` sees every estimate (progress)."""
    deadline = time.monotonic() + timeout_s
    last: Estimate | None = None
    while True:
        try:
            last = fetch_estimate(backend_url, project)
        except NotFoundError:
            last = None
        if last is not None:
            if on_poll is not None:
                on_poll(last)
            if ready(last):
                return last
        if time.monotonic() > deadline:
            state = "unknown project" if last is None else describe_state(last)
            raise UnavailableError(f"timed out after {timeout_s:.0f} s waiting for {what} "
                                   f"(last: {state})")  # fmt: skip
        time.sleep(every_s)


def is_settled(estimate: Mapping[str, Any], annotated: int) -> bool:
    """Whether the backend has taken in ``annotated`` annotations and has no job left."""
    counts = estimate.get("counts") or {}
    return int(counts.get("annotated", -1)) >= annotated and estimate.get("state") == "idle"


def describe_state(estimate: Mapping[str, Any]) -> str:
    counts = estimate.get("counts") or {}
    return (f"state {estimate.get('state')}, verdict {estimate.get('verdict')}, "
            f"{counts.get('scored')}/{counts.get('tasks')} scored, "
            f"{counts.get('annotated')} annotated, error {estimate.get('error')}")  # fmt: skip


def progress_bar(done: int, total: int, width: int = 24) -> str:
    """``[█████·······]`` filled in proportion to ``done / total``."""
    filled = 0 if total <= 0 else round(width * min(done, total) / total)
    return "[" + "█" * filled + "·" * (width - filled) + "]"


def _interval(value: object) -> str:
    if isinstance(value, list | tuple) and len(value) == 2 and None not in value:
        return f"{float(value[0]):,.0f}-{float(value[1]):,.0f}"
    return "?"


def format_estimate(estimate: Mapping[str, Any]) -> str:
    """One readable line: verdict, examples still needed with range, CoS-Low, or what is
    missing while collecting."""
    verdict = str(estimate.get("verdict"))
    counts = estimate.get("counts") or {}
    head = _VERDICTS.get(verdict, verdict)
    if verdict == "collecting":
        return (f"{head}: {counts.get('low_confidence_annotated', 0)} low-confidence labels, "
                f"{counts.get('needed_low_confidence', '?')} more needed before an estimate")
    parts = [head]
    if estimate.get("remaining") is not None:
        parts.append(f"~{int(estimate['remaining']):,} more examples needed "
                     f"({_interval(estimate.get('remaining_interval'))})")  # fmt: skip
    if estimate.get("examples_needed") is not None:
        parts.append(f"n* ~{float(estimate['examples_needed']):,.0f} "
                     f"({_interval(estimate.get('examples_needed_interval'))})")  # fmt: skip
    if estimate.get("coslow") is not None:
        parts.append(f"CoS-Low {float(estimate['coslow']):.3f}")
    if estimate.get("provisional"):
        parts.append("provisional")
    return " | ".join(parts)
