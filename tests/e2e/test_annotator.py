"""The simulated annotator gets tasks in uncertainty order from a real Label Studio."""

from __future__ import annotations

import random
from typing import Any

import pytest
from label_studio_sdk import LabelStudio

from dataeff.demo.annotator import SimulatedAnnotator
from dataeff.demo.tasks import make_task
from dataeff.labelstudio.connect import connect
from dataeff.labelstudio.localserver import LocalLabelStudio

from .fake_backend import MODEL_VERSION, FakeBackend

pytestmark = pytest.mark.e2e


def test_serves_least_confident_first_and_labels_exactly(
    label_studio: LocalLabelStudio, ls_client: LabelStudio
) -> None:
    task = make_task("web_of_lies", 12, seed=3)
    project = int(ls_client.projects.create(title="annotator", label_config=task.label_config).id
                  or 0)  # fmt: skip
    data: Any = task.ls_tasks()
    imported = ls_client.projects.import_tasks(id=project, request=data, return_task_ids=True)
    ids = [int(i) for i in getattr(imported, "task_ids", [])]
    scores = dict(zip(ids, random.Random(0).sample(range(5, 95), len(ids)), strict=True))
    for task_id, score in scores.items():
        ls_client.predictions.create(task=task_id, score=score / 100, model_version=MODEL_VERSION,
                                     result=[])  # fmt: skip
    with FakeBackend() as backend:
        connect(label_studio.url, label_studio.credentials.token, project, backend.url,
                sync=False)  # fmt: skip
        answers = {i: item.answer for i, item in zip(ids, task.items, strict=True)}
        annotator = SimulatedAnnotator(label_studio.url, label_studio.credentials.token, project,
                                       answers, task.annotation)  # fmt: skip
        served = [annotator.label_next() for _ in range(4)]
        # the browser's "Label All Tasks" asks the Data Manager with the tab's order and empty
        # filters (body as Label Studio 1.23.2's frontend sends it); connect ordered the tab
        (view,) = ls_client.views.list(project=project)
        ui_next = annotator.session.post(
            f"{label_studio.url}/api/dm/actions?id=next_task&tabID={view.id}&project={project}",
            json={"ordering": view.data["ordering"], "project": str(project),
                  "selectedItems": {"all": False, "included": []},
                  "filters": {"conjunction": "and", "items": []}},
            timeout=30,
        ).json()  # fmt: skip

    lowest = sorted(scores, key=scores.__getitem__)[:5]
    assert [s.task_id for s in served if s] == lowest[:4]
    assert (ui_next["id"], ui_next["queue"]) == (lowest[4], "Data manager queue")
    assert [s.score for s in served if s] == [scores[i] / 100 for i in lowest[:4]]
    for item in served:
        assert item is not None
        (annotation,) = ls_client.annotations.list(id=item.task_id)
        assert annotation.result == task.annotation(answers[item.task_id])
