"""An in-memory Label Studio: the test twin of :class:`~dataeff.labelstudio.gateway.SdkGateway`.

It keeps projects, tasks, annotations and predictions in dicts, records every write in
:attr:`FakeLabelStudio.writes` (so tests can count Label Studio calls) and fails like the
real gateway: an unknown project raises :class:`NotFoundError`; ``down = True`` makes every
call raise :class:`UnavailableError`.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from dataeff.errors import NotFoundError, UnavailableError
from dataeff.labelstudio.gateway import PredictionInfo, ProjectInfo, TaskSnapshot
from dataeff.labelstudio.records import parse_annotation, parse_task

_PROJECT_FIELDS = {"expert_instruction", "show_instruction", "model_version", "sampling",
                   "label_config", "description", "title"}


@dataclass
class _Prediction:
    id: int
    task_id: int
    result: list[dict[str, Any]]
    score: float
    model_version: str


@dataclass
class FakeLabelStudio:
    """In-memory :class:`~dataeff.labelstudio.gateway.LabelStudioGateway`."""

    projects: dict[int, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[int, dict[str, Any]] = field(default_factory=dict)    # id -> {project, data}
    annotations: dict[int, dict[str, Any]] = field(default_factory=dict)
    predictions: dict[int, _Prediction] = field(default_factory=dict)
    writes: list[tuple[str, int]] = field(default_factory=list)
    down: bool = False
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- helpers to set up a scenario -----------------------------------------------------
    def add_project(self, project_id: int, label_config: str, **fields: Any) -> None:
        self.projects[project_id] = {"label_config": label_config, "expert_instruction": "",
                                     "show_instruction": False, "model_version": "",
                                     "sampling": "Sequential sampling", **fields}

    def add_task(self, project_id: int, task_id: int, data: dict[str, Any]) -> None:
        self.tasks[task_id] = {"project": project_id, "data": dict(data)}

    def add_annotation(self, annotation: dict[str, Any]) -> None:
        ann = parse_annotation(annotation)
        self.annotations[ann.id] = copy.deepcopy(dict(annotation, task=ann.task_id))

    def delete_annotation(self, annotation_id: int) -> None:
        self.annotations.pop(annotation_id, None)

    # --- the gateway protocol -------------------------------------------------------------
    def get_project(self, project_id: int) -> ProjectInfo:
        p = self._project(project_id)
        return ProjectInfo(project_id, p["label_config"], p["expert_instruction"],
                           p["show_instruction"], p["model_version"], p["sampling"])

    def iter_tasks(self, project_id: int) -> Iterator[TaskSnapshot]:
        self._project(project_id)
        for task_id in sorted(t for t, v in self.tasks.items() if v["project"] == project_id):
            task = parse_task({"id": task_id, "data": self.tasks[task_id]["data"]})
            anns = tuple(parse_annotation(a) for _, a in sorted(self.annotations.items())
                         if a["task"] == task_id)
            yield TaskSnapshot(task, anns)

    def list_predictions(self, project_id: int) -> list[PredictionInfo]:
        self._project(project_id)
        return [PredictionInfo(p.id, p.task_id, p.model_version, p.score)
                for p in self.predictions.values()
                if self.tasks.get(p.task_id, {}).get("project") == project_id]

    def create_prediction(self, task_id: int, *, result: Sequence[dict[str, Any]],
                          score: float, model_version: str) -> int:
        self._up()
        if task_id not in self.tasks:
            raise UnavailableError(f"Label Studio predictions.create failed: no task {task_id}")
        with self._lock:
            pid = next(self._ids)
            self.predictions[pid] = _Prediction(pid, task_id, copy.deepcopy(list(result)),
                                                score, model_version)
            self.writes.append(("predictions.create", task_id))
        return pid

    def update_prediction(self, prediction_id: int, *, result: Sequence[dict[str, Any]],
                          score: float, model_version: str) -> None:
        self._up()
        p = self.predictions.get(prediction_id)
        if p is None:
            raise UnavailableError(f"Label Studio predictions.update failed: HTTP 404 "
                                   f"(prediction {prediction_id})")
        p.result, p.score, p.model_version = copy.deepcopy(list(result)), score, model_version
        self.writes.append(("predictions.update", prediction_id))

    def update_project(self, project_id: int, **fields: Any) -> None:
        project = self._project(project_id)
        unknown = set(fields) - _PROJECT_FIELDS
        if unknown:
            raise UnavailableError(f"Label Studio projects.update failed: HTTP 400 {unknown}")
        project.update(fields)
        self.writes.append(("projects.update", project_id))

    def _project(self, project_id: int) -> dict[str, Any]:
        self._up()
        if project_id not in self.projects:
            raise NotFoundError(f"Label Studio has no project {project_id} (projects.get)")
        return self.projects[project_id]

    def _up(self) -> None:
        if self.down:
            raise UnavailableError("Label Studio at fake:// failed: connection refused")
