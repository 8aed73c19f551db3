"""The whole loop against a real Label Studio and a real `dataeff serve` (SmolLM2 on CPU).

One project for the module, in order: confidence predictions -> uncertainty order -> first
estimate with a range (+ what the annotator sees in the browser) -> changed and deleted
annotations change the estimate -> the stop verdict -> reconcile after the backend was down.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest
from label_studio_sdk import LabelStudio

from dataeff.demo.annotator import Served, SimulatedAnnotator
from dataeff.demo.backend_process import BackendProcess
from dataeff.demo.estimates import fetch_estimate, is_settled, wait_for_estimate
from dataeff.demo.tasks import DemoTask, make_task
from dataeff.labelstudio.connect import connect
from dataeff.labelstudio.localserver import LocalLabelStudio

from . import browser

pytestmark = pytest.mark.e2e

POOL = 60
MIN_EXAMPLES = 8
JOB_TIMEOUT_S = 600.0


@dataclass
class Flow:
    """The module's project and the people and servers around it."""

    ls: LocalLabelStudio
    backend: BackendProcess
    client: LabelStudio
    task: DemoTask
    project: int
    answers: dict[int, str]
    texts: dict[int, str]
    annotator: SimulatedAnnotator
    secret: str
    served: list[Served]

    def settled(self, annotated: int, what: str) -> dict[str, Any]:
        return wait_for_estimate(self.backend.url, self.project,
                                 lambda e: is_settled(e, annotated), what=what,
                                 timeout_s=JOB_TIMEOUT_S)  # fmt: skip

    def newer(self, than: dict[str, Any], what: str) -> dict[str, Any]:
        """The first settled estimate after ``than`` (a new estimate id, no job left)."""
        old = than.get("estimate_id") or 0
        return wait_for_estimate(
            self.backend.url, self.project,
            lambda e: (e.get("estimate_id") or 0) > old and e.get("state") == "idle",
            what=what, timeout_s=JOB_TIMEOUT_S,
        )  # fmt: skip

    def scores(self) -> dict[int, float]:
        version = self.client.projects.get(id=self.project).model_version
        return {int(p.task or 0): float(p.score or 0.0)
                for p in self.client.predictions.list(project=self.project)
                if p.model_version == version}  # fmt: skip

    def status_text(self, task_id: int) -> str:
        """The dataeff_status text in the task's prediction (what the editor pre-fills)."""
        for prediction in self.client.predictions.list(task=task_id):
            for region in prediction.result or []:
                if str(region.get("from_name", "")).startswith("dataeff_status"):
                    return str(region["value"]["text"][0])
        return ""


@pytest.fixture(scope="module")
def flow(
    label_studio: LocalLabelStudio,
    ls_client: LabelStudio,
    dataeff_backend: BackendProcess,
    webhook_secret: str,
) -> Flow:
    """A boolean-expressions project (60 tasks) imported BEFORE connecting (connect's sync
    makes the backend reconcile), scored by the backend."""
    task = make_task("boolean_expressions", POOL, seed=11)
    project = int(ls_client.projects.create(title="e2e flow", label_config=task.label_config).id
                  or 0)  # fmt: skip
    data: Any = task.ls_tasks()
    imported = ls_client.projects.import_tasks(id=project, request=data, return_task_ids=True)
    ids = [int(i) for i in getattr(imported, "task_ids", [])]
    answers = {i: item.answer for i, item in zip(ids, task.items, strict=True)}
    texts = {i: item.text for i, item in zip(ids, task.items, strict=True)}
    connect(label_studio.url, label_studio.credentials.token, project, dataeff_backend.url,
            params={"min_examples": MIN_EXAMPLES}, secret=webhook_secret)  # fmt: skip
    wait_for_estimate(
        dataeff_backend.url, project,
        lambda e: (e.get("counts") or {}).get("scored") == POOL and e.get("state") == "idle",
        what="the confidence pass over the pool", timeout_s=JOB_TIMEOUT_S,
    )  # fmt: skip
    annotator = SimulatedAnnotator(label_studio.url, label_studio.credentials.token, project,
                                   answers, task.annotation)  # fmt: skip
    return Flow(label_studio, dataeff_backend, ls_client, task, project, answers, texts,
                annotator, webhook_secret, [])  # fmt: skip


def test_every_task_gets_a_confidence_prediction(flow: Flow) -> None:
    scores = flow.scores()
    assert sorted(scores) == sorted(flow.answers)
    assert all(0.0 < s <= 1.0 for s in scores.values())
    assert len(set(scores.values())) > POOL // 2  # real confidences, not a constant
    project = flow.client.projects.get(id=flow.project)
    assert project.sampling == "Uncertainty sampling"


def test_the_next_task_served_is_the_least_confident(flow: Flow) -> None:
    scores = flow.scores()
    served = flow.annotator.next_task()
    assert served is not None
    assert scores[int(served["id"])] == min(scores.values())


def test_an_estimate_with_a_range_after_enough_low_confidence_labels(flow: Flow) -> None:
    estimate: dict[str, Any] = {}
    while len(flow.served) < POOL:
        item = flow.annotator.label_next()
        assert item is not None
        flow.served.append(item)
        if len(flow.served) >= MIN_EXAMPLES:
            estimate = flow.settled(len(flow.served), f"the estimate after {len(flow.served)}")
            if estimate["verdict"] != "collecting":
                break
    assert estimate.get("verdict") not in (None, "collecting"), (
        f"still no estimate after labeling all {len(flow.served)} tasks: {estimate}")
    served_scores = [s.score for s in flow.served]
    assert served_scores == sorted(served_scores)  # least confident first, in order
    counts = estimate["counts"]
    assert counts["low_confidence_annotated"] >= MIN_EXAMPLES
    assert counts["annotated"] == len(flow.served)
    low, high = estimate["examples_needed_interval"]
    assert low <= estimate["examples_needed"] <= high
    r_low, r_high = estimate["remaining_interval"]
    assert r_low <= estimate["remaining"] <= r_high
    assert -1.0 <= estimate["coslow"] <= 1.0
    # what the next annotator sees: the status box of the next served task holds the message
    upcoming = flow.annotator.next_task()
    assert upcoming is not None
    assert flow.status_text(int(upcoming["id"])) == estimate["message"]


@pytest.mark.browser
def test_the_annotator_sees_the_estimate_in_the_labeling_view(
    flow: Flow, e2e_output: Any
) -> None:
    estimate = fetch_estimate(flow.backend.url, flow.project)
    labeled = {s.task_id for s in flow.served}
    unlabeled = {t: s for t, s in flow.scores().items() if t not in labeled}
    least_confident = flow.texts[min(unlabeled, key=unlabeled.__getitem__)]
    credentials = flow.ls.credentials
    shot = e2e_output / "annotator-view.png"
    with browser.chromium(e2e_output / "chromium-profile") as driver:
        browser.log_in(driver, flow.ls.url, credentials.username, credentials.password)
        browser.open_label_stream(driver, flow.ls.url, flow.project)
        status = browser.wait_visible_text(driver, browser.STATUS_SELECTOR)
        instructions = browser.close_instructions(driver)
        time.sleep(0.5)  # let the modal's fade-out finish before the screenshot
        driver.save_screenshot(str(shot))
        page = browser.page_text(driver)
    assert status == [estimate["message"]]  # the status box shows the current estimate
    assert least_confident in page  # "Label All Tasks" serves the least confident task
    assert "dataeff:" in instructions  # the project-wide flag in the instructions
    assert shot.stat().st_size > 10_000


def test_changing_and_deleting_annotations_change_the_estimate(flow: Flow) -> None:
    before = flow.settled(len(flow.served), "the current estimate")
    first = flow.served[0].task_id  # the least confident: in the low-confidence set
    (annotation,) = flow.client.annotations.list(id=first)
    other = next(c for c in flow.task.spec.answer_choices or () if c != flow.answers[first])
    flow.client.annotations.update(id=int(annotation.id or 0), result=flow.task.annotation(other))
    changed = flow.newer(before, "the estimate after changing an answer")
    assert changed["counts"]["annotated"] == before["counts"]["annotated"]
    assert (changed["coslow"], changed["coslow_interval"]) != (
        before["coslow"], before["coslow_interval"])

    flow.client.annotations.delete(id=int(annotation.id or 0))
    deleted = flow.newer(changed, "the estimate after deleting an annotation")
    assert deleted["counts"]["annotated"] == before["counts"]["annotated"] - 1
    low_before = before["counts"]["low_confidence_annotated"]
    assert deleted["counts"]["low_confidence_annotated"] == low_before - 1
    if low_before - 1 < MIN_EXAMPLES:
        assert deleted["verdict"] == "collecting"
        assert deleted["counts"]["needed_low_confidence"] == MIN_EXAMPLES - (low_before - 1)
    else:
        assert (deleted["coslow"], deleted["coslow_interval"]) != (
            changed["coslow"], changed["coslow_interval"])

    flow.client.annotations.create(id=first, result=flow.task.annotation(flow.answers[first]))
    restored = flow.newer(deleted, "the estimate after restoring the annotation")
    assert restored["counts"] == before["counts"]
    assert restored["coslow"] == pytest.approx(before["coslow"], abs=1e-6)


def test_the_stop_verdict_appears_when_its_condition_holds(flow: Flow) -> None:
    before = flow.settled(len(flow.served), "the current estimate")
    annotated = before["counts"]["annotated"]
    # with the curve's range ending at the labeled count, n* <= annotated: target reached
    connect(flow.ls.url, flow.ls.credentials.token, flow.project, flow.backend.url,
            params={"max_budget": annotated}, secret=flow.secret)  # fmt: skip
    stop = flow.newer(before, "the estimate under max_budget = annotated")
    assert stop["verdict"] == "target_reached"
    assert stop["criteria"]["max_budget"] == annotated
    instructions = str(flow.client.projects.get(id=flow.project).expert_instruction)
    assert "STOP labeling" in instructions
    upcoming = flow.annotator.next_task()
    assert upcoming is not None
    assert flow.status_text(int(upcoming["id"])) == stop["message"]

    connect(flow.ls.url, flow.ls.credentials.token, flow.project, flow.backend.url,
            params={"max_budget": 5000}, secret=flow.secret)  # fmt: skip
    again = flow.newer(stop, "the estimate under max_budget = 5000")
    assert again["criteria"]["max_budget"] == 5000


def test_reconcile_recovers_annotations_made_while_the_backend_was_down(flow: Flow) -> None:
    before = flow.settled(len(flow.served), "the current estimate")
    flow.backend.stop()
    try:
        made = [flow.annotator.label_next() for _ in range(10)]
    finally:
        flow.backend.start()
    assert all(made)
    flow.served.extend(s for s in made if s)
    after = flow.settled(before["counts"]["annotated"] + 10, "reconcile after the restart")
    assert after["counts"]["annotated"] == before["counts"]["annotated"] + 10
    labeled = {int(t.id or 0) for t in flow.client.tasks.list(project=flow.project)
               if t.is_labeled}  # fmt: skip
    assert len(labeled) == after["counts"]["annotated"]
