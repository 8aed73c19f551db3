"""A simulated annotator: takes the task Label Studio serves next and labels it exactly.

It asks ``GET /api/projects/<id>/next`` as the labeling view does (the SDK has no call for
it), so with uncertainty sampling it gets the least confident task first (LS §5), and submits
the exact label the demo generator kept apart from the task data through the SDK
(``annotations.create``), which fires the same webhook as a submit in the browser.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from dataeff.errors import UnavailableError


@dataclass(frozen=True)
class Served:
    """A labeled task: its id, the answer given, and the prediction score it was served with
    (``None`` when it had no prediction of the project's model version)."""

    task_id: int
    answer: str
    score: float | None


class SimulatedAnnotator:
    """Labels tasks of ``project`` in serving order with ``answers`` (task id -> choice).

    ``result_for(answer)`` builds the annotation result (e.g. ``DemoTask.annotation``).
    """

    def __init__(
        self,
        ls_url: str,
        token: str,
        project: int,
        answers: Mapping[int, str],
        result_for: Callable[[str], list[dict[str, object]]],
        *,
        timeout_s: float = 120.0,
    ) -> None:
        self.ls_url = ls_url.rstrip("/")
        self.project = project
        self.answers = dict(answers)
        self.result_for = result_for
        self.timeout_s = timeout_s
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"
        from label_studio_sdk import LabelStudio

        self.client = LabelStudio(  # type: ignore[no-untyped-call]
            base_url=self.ls_url, api_key=token, timeout=timeout_s
        )

    def next_task(self) -> dict[str, Any] | None:
        """The task Label Studio serves next, or ``None`` when none is left."""
        url = f"{self.ls_url}/api/projects/{self.project}/next"
        answer = self.session.get(url, timeout=self.timeout_s)
        if answer.status_code == 404:
            return None
        if not answer.ok:
            raise UnavailableError(f"GET {url} answered {answer.status_code}: {answer.text[:200]}")
        task: dict[str, Any] = answer.json()
        return task

    def label_next(self) -> Served | None:
        """Label the next served task; ``None`` when the project has nothing left to label."""
        task = self.next_task()
        if task is None:
            return None
        task_id = int(task["id"])
        if task_id not in self.answers:
            raise UnavailableError(f"Label Studio served task {task_id}, which the demo did "
                                   "not import")  # fmt: skip
        answer = self.answers[task_id]
        self.client.annotations.create(id=task_id, result=self.result_for(answer), lead_time=5.0)
        predictions = task.get("predictions") or []
        scores = [float(p["score"]) for p in predictions if p.get("score") is not None]
        return Served(task_id, answer, min(scores) if scores else None)
