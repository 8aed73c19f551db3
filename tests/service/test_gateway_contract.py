"""One contract for every LabelStudioGateway: run here over the in-memory twin (the SDK
implementation runs the same calls against a real Label Studio in the e2e suite)."""

from __future__ import annotations

import pytest
from lsdata import XML, annotation

from dataeff.errors import NotFoundError, UnavailableError
from dataeff.labelstudio.fake import FakeLabelStudio
from dataeff.labelstudio.gateway import LabelStudioGateway


@pytest.fixture
def gateway() -> LabelStudioGateway:
    ls = FakeLabelStudio()
    ls.add_project(3, XML, expert_instruction="<p>hi</p>")
    ls.add_task(3, 10, {"text": "a"})
    ls.add_task(3, 11, {"text": "b"})
    ls.add_annotation(annotation(50, 10, "yes"))
    ls.add_annotation(annotation(51, 10, "", cancelled=True))
    return ls


def test_project_tasks_and_annotations(gateway: LabelStudioGateway) -> None:
    info = gateway.get_project(3)
    assert info.id == 3 and info.label_config == XML and info.expert_instruction == "<p>hi</p>"
    snaps = list(gateway.iter_tasks(3))
    assert [s.task.id for s in snaps] == [10, 11]
    assert [(a.id, a.was_cancelled) for a in snaps[0].annotations] == [(50, False), (51, True)]
    assert snaps[1].annotations == ()


def test_predictions_round_trip(gateway: LabelStudioGateway) -> None:
    pid = gateway.create_prediction(10, result=[], score=0.25, model_version="v")
    (found,) = gateway.list_predictions(3)
    assert (found.id, found.task_id, found.score, found.model_version) == (pid, 10, 0.25, "v")
    gateway.update_prediction(pid, result=[], score=0.5, model_version="v")
    assert gateway.list_predictions(3)[0].score == 0.5


def test_project_update_and_errors(gateway: LabelStudioGateway) -> None:
    gateway.update_project(3, expert_instruction="x", show_instruction=True)
    assert gateway.get_project(3).show_instruction is True
    with pytest.raises(NotFoundError, match="project 4"):
        gateway.get_project(4)
    with pytest.raises(UnavailableError):
        gateway.update_prediction(99999, result=[], score=0.1, model_version="v")
