"""`dataeff connect` against a real Label Studio and a recording stand-in backend."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from typing import Any

import pytest
from label_studio_sdk import LabelStudio

from dataeff.cli import main
from dataeff.labelstudio.connect import SECRET_HEADER, connect
from dataeff.labelstudio.localserver import LocalLabelStudio, free_port
from dataeff.labelstudio.status import STATUS_CONTROL_PREFIX

from .fake_backend import MODEL_VERSION, FakeBackend
from .polling import wait_for

pytestmark = pytest.mark.e2e

CONFIG = """<View>
  <Text name="review" value="$review"/>
  <Choices name="sentiment" toName="review" choice="single">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
  </Choices>
</View>"""


@pytest.fixture
def fake_backend() -> Iterator[FakeBackend]:
    with FakeBackend() as backend:
        yield backend


@pytest.fixture
def project(ls_client: LabelStudio) -> int:
    created = ls_client.projects.create(title="connect test", label_config=CONFIG)
    ls_client.projects.import_tasks(
        id=int(created.id or 0), request=[{"review": "great"}, {"review": "awful"}]
    )
    return int(created.id or 0)


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_connect_wires_the_project(
    label_studio: LocalLabelStudio, ls_client: LabelStudio, project: int, fake_backend: FakeBackend
) -> None:
    key = label_studio.credentials.token
    result = connect(
        label_studio.url, key, project, fake_backend.url,
        params={"target": 0.8, "min_examples": 8}, secret="s3cret",
    )  # fmt: skip

    assert result.model_version == MODEL_VERSION
    assert set(result.changed) == {"label_config", "ml_backend", "sampling", "views", "webhook"}
    backends = list(ls_client.ml.list(project=project))
    assert [(b.url, b.title, b.extra_params) for b in backends] == [
        (fake_backend.url, MODEL_VERSION, {"target": 0.8, "min_examples": 8})
    ]
    setups = fake_backend.recorded.of("/setup")
    assert setups and setups[-1][1]["extra_params"] == {"target": 0.8, "min_examples": 8}
    stored = ls_client.projects.get(id=project)
    assert stored.sampling == "Uncertainty sampling"
    assert stored.model_version == MODEL_VERSION
    assert f'name="{STATUS_CONTROL_PREFIX}" toName="review"' in str(stored.label_config)
    assert '<Choice value="Negative"/>' in str(stored.label_config)
    (view,) = ls_client.views.list(project=project)
    assert view.data["ordering"] == ["tasks:predictions_score"]
    # Start Training reached the backend, so it can sync tasks imported before connecting
    trains = [b for _, b in fake_backend.recorded.of("/webhook") if b["action"] == "START_TRAINING"]
    assert trains and trains[-1]["project"]["id"] == project

    # an annotation reaches the backend's webhook with the secret header
    task = next(iter(ls_client.tasks.list(project=project)))
    ls_client.annotations.create(id=int(task.id or 0), result=[{
        "from_name": "sentiment", "to_name": "review", "type": "choices",
        "value": {"choices": ["Positive"]}}])  # fmt: skip

    def created_event() -> dict[str, str] | None:
        for headers, body in fake_backend.recorded.of("/webhook"):
            if body.get("action") == "ANNOTATION_CREATED":
                return headers
        return None

    headers = wait_for(created_event, "ANNOTATION_CREATED at the backend", timeout_s=20)
    assert headers.get(SECRET_HEADER) == "s3cret"


def test_connect_is_idempotent_and_updates_criteria(
    label_studio: LocalLabelStudio, ls_client: LabelStudio, project: int, fake_backend: FakeBackend
) -> None:
    key = label_studio.credentials.token
    first = connect(label_studio.url, key, project, fake_backend.url + "/", params={"target": 0.9},
                    secret="a")  # fmt: skip
    config = ls_client.projects.get(id=project).label_config
    again = connect(label_studio.url, key, project, fake_backend.url, params={"target": 0.9},
                    secret="a")  # fmt: skip
    assert again.changed == []
    assert (again.ml_backend, again.webhook) == (first.ml_backend, first.webhook)
    assert ls_client.projects.get(id=project).label_config == config
    assert len(list(ls_client.ml.list(project=project))) == 1
    assert len(list(ls_client.webhooks.list(project=str(project)))) == 1
    assert len(list(ls_client.views.list(project=project))) == 1

    changed = connect(label_studio.url, key, project, fake_backend.url,
                      params={"min_gain": 0.02}, secret="b", sync=False)  # fmt: skip
    assert set(changed.changed) == {"ml_backend", "webhook"}
    assert changed.params == {"target": 0.9, "min_gain": 0.02}
    assert fake_backend.recorded.of("/setup")[-1][1]["extra_params"] == changed.params
    hooks = list(ls_client.webhooks.list(project=str(project)))
    assert hooks[0].headers == {SECRET_HEADER: "b"}


def test_cli_connect_prints_json(
    label_studio: LocalLabelStudio, project: int, fake_backend: FakeBackend
) -> None:
    code, out, err = _cli(
        "connect", "--ls-url", label_studio.url, "--api-key", label_studio.credentials.token,
        "--project", str(project), "--backend-url", fake_backend.url, "--target", "0.85",
        "--format", "table",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "model_version" in out.splitlines()[0] and MODEL_VERSION in out


@pytest.mark.parametrize("problem", ["url", "token", "project", "backend", "criteria"])
def test_cli_connect_errors_are_one_line(
    label_studio: LocalLabelStudio, project: int, fake_backend: FakeBackend, problem: str
) -> None:
    ls_url, key, pid, backend = (
        label_studio.url, label_studio.credentials.token, str(project), fake_backend.url
    )
    extra: list[str] = []
    expected = {
        "url": "cannot reach Label Studio",
        "token": "rejected the API key",
        "project": "project 999999",
        "backend": "does not answer GET /health",
        "criteria": "extra_params.target must lie in (0, 1], got 1.5",
    }[problem]
    if problem == "url":
        ls_url = f"http://127.0.0.1:{free_port()}"
    elif problem == "token":
        key = "0" * 40
    elif problem == "project":
        pid = "999999"
    elif problem == "backend":
        backend = f"http://127.0.0.1:{free_port()}"
    else:
        extra = ["--target", "1.5"]
    code, out, err = _cli("connect", "--ls-url", ls_url, "--api-key", key, "--project", pid,
                          "--backend-url", backend, *extra)  # fmt: skip
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("dataeff: error: ")
    assert expected in err


def test_connect_orders_unordered_tabs_and_keeps_ordered_ones(
    label_studio: LocalLabelStudio, ls_client: LabelStudio, project: int, fake_backend: FakeBackend
) -> None:
    plain: Any = {"title": "plain", "type": "list", "target": "tasks"}
    mine: Any = {"title": "mine", "type": "list", "target": "tasks", "ordering": ["-tasks:id"]}
    ls_client.views.create(project=project, data=plain)
    ls_client.views.create(project=project, data=mine)
    result = connect(label_studio.url, label_studio.credentials.token, project, fake_backend.url,
                     sync=False)  # fmt: skip
    assert "views" in result.changed
    orders = {v.data["title"]: v.data["ordering"] for v in ls_client.views.list(project=project)}
    assert orders == {"plain": ["tasks:predictions_score"], "mine": ["-tasks:id"]}
