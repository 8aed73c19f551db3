"""The service's view of a Label Studio server: a small protocol and its SDK implementation.

:class:`LabelStudioGateway` holds the handful of calls the job makes (LS §7); the real one,
:class:`SdkGateway`, uses label-studio-sdk 2.1.2 (``LabelStudio``: a legacy token or a
personal access token, the SDK tells them apart), and
:class:`dataeff.labelstudio.fake.FakeLabelStudio` is its in-memory twin for tests. Failures
surface as :class:`~dataeff.errors.UnavailableError` (server down, auth refused) or
:class:`~dataeff.errors.NotFoundError` (unknown project), each naming the call.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from dataeff.errors import NotFoundError, UnavailableError
from dataeff.labelstudio.records import (
    AnnotationRecord,
    TaskRecord,
    parse_annotation,
    parse_task,
)


@dataclass(frozen=True)
class ProjectInfo:
    """The project fields dataeff reads."""

    id: int
    label_config: str
    expert_instruction: str = ""
    show_instruction: bool = False
    model_version: str = ""
    sampling: str = ""


@dataclass(frozen=True)
class TaskSnapshot:
    """A task as Label Studio holds it now, with all its annotations."""

    task: TaskRecord
    annotations: tuple[AnnotationRecord, ...] = field(default=(), hash=False)


@dataclass(frozen=True)
class PredictionInfo:
    id: int
    task_id: int
    model_version: str
    score: float | None


class LabelStudioGateway(Protocol):
    """What the job needs from Label Studio."""

    def get_project(self, project_id: int) -> ProjectInfo: ...

    def iter_tasks(self, project_id: int) -> Iterator[TaskSnapshot]: ...

    def list_predictions(self, project_id: int) -> list[PredictionInfo]: ...

    def create_prediction(self, task_id: int, *, result: Sequence[dict[str, Any]],
                          score: float, model_version: str) -> int: ...

    def update_prediction(self, prediction_id: int, *, result: Sequence[dict[str, Any]],
                          score: float, model_version: str) -> None: ...

    def update_project(self, project_id: int, **fields: Any) -> None: ...


class SdkGateway:
    """:class:`LabelStudioGateway` over label-studio-sdk's ``LabelStudio`` client."""

    def __init__(self, url: str, api_key: str, *, timeout_s: float = 10.0,
                 client: Any = None) -> None:
        self.url = url
        if client is None:
            from label_studio_sdk import LabelStudio

            client = LabelStudio(  # type: ignore[no-untyped-call]
                base_url=url, api_key=api_key, timeout=timeout_s)
        self._ls = client

    def get_project(self, project_id: int) -> ProjectInfo:
        p = _plain(self._call("projects.get", lambda: self._ls.projects.get(id=project_id),
                              project_id))
        return ProjectInfo(int(p["id"]), str(p.get("label_config") or ""),
                           str(p.get("expert_instruction") or ""),
                           bool(p.get("show_instruction")), str(p.get("model_version") or ""),
                           str(p.get("sampling") or ""))

    def iter_tasks(self, project_id: int) -> Iterator[TaskSnapshot]:
        pager = self._call("tasks.list", lambda: self._ls.tasks.list(
            project=project_id, fields="all", page_size=100), project_id)
        iterator = iter(pager)
        while True:
            item = self._call("tasks.list", lambda: next(iterator, None), project_id)
            if item is None:
                return
            raw = _plain(item)
            task = parse_task(raw, f"task {raw.get('id')}")
            anns = tuple(parse_annotation(a, f"task {task.id} annotation", task.id)
                         for a in raw.get("annotations") or [])
            yield TaskSnapshot(task, anns)

    def list_predictions(self, project_id: int) -> list[PredictionInfo]:
        items = self._call("predictions.list",
                           lambda: self._ls.predictions.list(project=project_id), project_id)
        out = []
        for item in items:
            p = _plain(item)
            task = p.get("task")
            score = p.get("score")
            if not isinstance(task, int):
                continue
            out.append(PredictionInfo(int(p["id"]), task, str(p.get("model_version") or ""),
                                      None if score is None else float(score)))
        return out

    def create_prediction(self, task_id: int, *, result: Sequence[dict[str, Any]],
                          score: float, model_version: str) -> int:
        made = self._call("predictions.create", lambda: self._ls.predictions.create(
            task=task_id, result=list(result), score=score, model_version=model_version), None)
        return int(_plain(made)["id"])

    def update_prediction(self, prediction_id: int, *, result: Sequence[dict[str, Any]],
                          score: float, model_version: str) -> None:
        self._call("predictions.update", lambda: self._ls.predictions.update(
            id=prediction_id, result=list(result), score=score, model_version=model_version),
            None)

    def update_project(self, project_id: int, **fields: Any) -> None:
        self._call("projects.update",
                   lambda: self._ls.projects.update(id=project_id, **fields), project_id)

    def _call(self, name: str, thunk: Any, project_id: int | None) -> Any:
        try:
            return thunk()
        except Exception as error:
            status = getattr(error, "status_code", None)
            if status == 404 and project_id is not None and name.startswith("projects"):
                raise NotFoundError(f"Label Studio at {self.url} has no project "
                                    f"{project_id} ({name})") from None
            detail = f"HTTP {status}" if status else f"{type(error).__name__}: {error}"
            raise UnavailableError(f"Label Studio {name} at {self.url} failed: {detail}") from None


def _plain(obj: Any) -> dict[str, Any]:
    """A dict from an SDK (pydantic) object or a dict; nested objects become dicts too."""
    if hasattr(obj, "model_dump"):
        dumped: dict[str, Any] = obj.model_dump(mode="json")
        return dumped
    if isinstance(obj, dict):
        return {k: (_plain(v) if hasattr(v, "model_dump") else
                    [_plain(x) if hasattr(x, "model_dump") else x for x in v]
                    if isinstance(v, list) else v) for k, v in obj.items()}
    raise UnavailableError(f"unexpected Label Studio response object {type(obj).__name__}")
