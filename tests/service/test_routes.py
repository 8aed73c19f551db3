"""Every route with recorded Label Studio payloads; every bad request is a 4xx with JSON."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from lsdata import XML, AppFactory, payload

from dataeff.service.runtime import Runtime
from dataeff.settings import Settings


def test_health_and_root_answer_json(client: FlaskClient) -> None:
    for path in ("/", "/health"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.json is not None
        assert response.json["status"] == "UP"
        assert response.json["model_class"] == "DataEff"


def test_versions_lists_the_stable_model_version(client: FlaskClient) -> None:
    assert client.get("/versions").json == {"versions": ["dataeff-conf-v1"]}


def test_setup_returns_model_version_and_stores_params(client: FlaskClient,
                                                       runtime: Runtime) -> None:
    response = client.post("/setup", json=payload("setup"))
    assert response.status_code == 200
    assert response.json == {"model_version": "dataeff-conf-v1"}
    row = runtime.store.get_project(1)
    assert row is not None
    assert row.label_config == XML
    assert row.params["target"] == 0.8 and row.params["min_examples"] == 4
    assert runtime.scorers.loaded() == []            # no model loaded inside a request


def test_setup_twice_queues_one_job(client: FlaskClient, runtime: Runtime) -> None:
    client.post("/setup", json=payload("setup"))
    client.post("/setup", json=payload("setup"))
    results = runtime.queue.run_pending()  # type: ignore[attr-defined]
    assert len(results) == 1
    client.post("/setup", json=payload("setup"))
    assert runtime.queue.depth() == 0


@pytest.mark.parametrize(("extra", "needle"), [
    ({"target": 1.5}, "extra_params.target"),
    ({"tau": 0.5}, "unknown key(s) ['tau']"),
    ({"max_budget": "many"}, "extra_params.max_budget"),
    ({"min_examples": 2.5}, "extra_params.min_examples"),
    ({"control": ""}, "extra_params.control"),
    ("{not json", "not valid JSON"),
    ([1, 2], "must be a JSON object"),
])
def test_setup_rejects_bad_extra_params_with_422(client: FlaskClient, extra: Any,
                                                 needle: str) -> None:
    body = payload("setup")
    body["extra_params"] = extra
    response = client.post("/setup", json=body)
    assert response.status_code == 422
    assert response.json is not None
    assert needle in response.json["detail"]
    assert response.json["error"] == "ConfigError"


def test_predict_gives_one_result_per_task_in_order(client: FlaskClient,
                                                    runtime: Runtime) -> None:
    client.post("/setup", json=payload("setup"))
    runtime.queue.run_pending()  # type: ignore[attr-defined]
    body = payload("predict")
    body["tasks"] = [*list(reversed(body["tasks"])), {"id": 999, "data": {"text": "x"}}]
    response = client.post("/predict", json=body)
    assert response.status_code == 200
    results = response.json["results"]  # type: ignore[index]
    assert len(results) == 3
    with runtime.store.read() as conn:
        from dataeff.service.store import pool

        known = pool.confidences(conn, 1, [6, 5])
    assert [r.get("score") for r in results] == [known[6], known[5], None]
    for r in results:
        assert r["model_version"] == "dataeff-conf-v1"
        (region,) = r["result"]
        assert region["from_name"] == "dataeff_status" and region["to_name"] == "text"
        assert region["type"] == "textarea" and region["value"]["text"][0]


def test_predict_without_status_control_returns_empty_results(client: FlaskClient) -> None:
    body = payload("predict")
    body["label_config"] = XML.replace("dataeff_status", "notes")
    results = client.post("/predict", json=body).json["results"]  # type: ignore[index]
    assert [r["result"] for r in results] == [[], []]


def test_predict_with_a_misconfigured_status_control_names_it_with_422(
        client: FlaskClient) -> None:
    body = payload("predict")
    body["label_config"] = XML.replace('<TextArea name="dataeff_status"',
                                       '<Choices name="dataeff_status"', 1)
    answer = client.post("/predict", json=body)
    assert answer.status_code == 422, answer.json
    assert "'dataeff_status' must be a TextArea, not Choices" in str(answer.json)


@pytest.mark.parametrize("name", ["annotation_created", "annotation_updated",
                                  "annotations_created", "annotations_deleted",
                                  "tasks_created", "tasks_deleted", "start_training",
                                  "project_updated"])
def test_every_event_type_is_accepted_and_deduplicated(client: FlaskClient, runtime: Runtime,
                                                       name: str) -> None:
    first = client.post("/webhook", json=payload(name))
    assert first.status_code == 202, first.json
    assert first.json["status"] == "queued"  # type: ignore[index]
    again = client.post("/webhook", json=payload(name))
    assert again.status_code == 200
    assert again.json["status"] == "duplicate"  # type: ignore[index]
    results = runtime.queue.run_pending()  # type: ignore[attr-defined]
    assert [r.outcome for r in results] == ["ok"]


def test_an_update_of_the_same_annotation_is_a_new_event(client: FlaskClient) -> None:
    assert client.post("/webhook", json=payload("annotation_created")).status_code == 202
    assert client.post("/webhook", json=payload("annotation_updated")).status_code == 202


def test_project_updated_echo_is_ignored(client: FlaskClient, runtime: Runtime) -> None:
    client.post("/setup", json=payload("setup"))       # stores the same label config
    response = client.post("/webhook", json=payload("project_updated"))
    assert response.status_code == 200
    assert response.json["status"] == "ignored"  # type: ignore[index]
    assert "unchanged" in response.json["reason"]  # type: ignore[index]


def test_label_link_events_are_ignored_not_rejected(client: FlaskClient) -> None:
    response = client.post("/webhook", json={"action": "LABEL_LINK_CREATED", "project": {"id": 1}})
    assert response.status_code == 200 and response.json["status"] == "ignored"  # type: ignore[index]


@pytest.mark.parametrize(("body", "needle"), [
    (b"{not json", "not valid JSON"),
    (b"", "empty"),
    (b"[1, 2]", "must be a JSON object"),
    (b'{"project": {"id": 1}}', "'action'"),
    (b'{"action": "FOO", "project": {"id": 1}}', "unknown webhook action 'FOO'"),
    (b'{"action": "ANNOTATION_CREATED", "project": {"id": 1}}', "task must be an object"),
    (b'{"action": "ANNOTATION_CREATED", "project": {"id": "one"}}', "project.id"),
    (b'{"action": "START_TRAINING"}', "'project'"),
    (b'{"action": "ANNOTATIONS_DELETED", "annotations": "17", "project": {"id": 1}}',
     "'annotations' must be a list"),
    (b'{"action": "ANNOTATIONS_DELETED", "annotations": [{"id": true}], "project": {"id": 1}}',
     "annotations[0].id"),
    (b'{"action": "TASKS_CREATED", "tasks": [{"id": 1, "data": "x"}], "project": {"id": 1}}',
     "tasks[0].data must be an object"),
])
def test_malformed_webhooks_get_400_with_a_clear_message(client: FlaskClient, body: bytes,
                                                         needle: str) -> None:
    response = client.post("/webhook", data=body, content_type="application/json")
    assert response.status_code == 400, response.json
    assert needle in response.json["detail"]  # type: ignore[index]


def test_wrong_types_in_annotation_are_rejected(client: FlaskClient) -> None:
    body = payload("annotation_created")
    body["annotation"]["was_cancelled"] = "no"
    response = client.post("/webhook", json=body)
    assert response.status_code == 400
    assert "annotation.was_cancelled" in response.json["detail"]  # type: ignore[index]


@pytest.mark.parametrize(("path", "body"), [
    ("/setup", {"project": None}), ("/setup", {"project": "1.2", "schema": 5}),
    ("/predict", {"tasks": []}), ("/predict", {"tasks": [{"id": "x"}], "project": "1.2"}),
    ("/predict", {"tasks": [{"id": 1}]}),
])
def test_bad_setup_and_predict_bodies_get_400(client: FlaskClient, path: str,
                                              body: dict[str, Any]) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 400, response.json
    assert response.json["detail"]  # type: ignore[index]


def test_oversize_body_gets_413(make_app: AppFactory, settings: Settings) -> None:
    client = make_app(settings.replace(max_body_bytes=1000)).test_client()
    big = payload("tasks_created")
    big["tasks"][0]["data"]["text"] = "x" * 2000
    response = client.post("/webhook", json=big)
    assert response.status_code == 413
    assert "max_body_bytes" in response.json["detail"]  # type: ignore[index]


def test_unknown_project_estimate_is_404_and_unknown_route_is_json_404(
        client: FlaskClient) -> None:
    response = client.get("/api/projects/77/estimate")
    assert response.status_code == 404 and "project 77" in response.json["detail"]  # type: ignore[index]
    assert client.get("/nope").json["error"] == "Not Found"  # type: ignore[index]
    assert client.get("/setup").status_code == 405


def test_estimate_before_any_job_is_collecting_with_nulls(client: FlaskClient) -> None:
    client.post("/setup", json=payload("setup"))
    body = client.get("/api/projects/1/estimate").json
    assert body is not None
    assert body["verdict"] == "collecting" and body["state"] == "queued"
    assert body["examples_needed"] is None and body["coslow"] is None
    assert body["criteria"]["target"] == 0.8 and body["history"] == []


def test_metrics_exposes_events_jobs_and_queue_depth(client: FlaskClient,
                                                     runtime: Runtime) -> None:
    client.post("/webhook", json=payload("tasks_created"))
    client.post("/webhook", json=payload("tasks_created"))
    text = client.get("/metrics").get_data(as_text=True)
    assert 'dataeff_events_received_total{action="TASKS_CREATED",outcome="stored"} 1' in text
    assert 'outcome="duplicate"} 1' in text
    assert "dataeff_queue_depth 1" in text
    runtime.queue.run_pending()  # type: ignore[attr-defined]
    text = client.get("/metrics").get_data(as_text=True)
    assert 'dataeff_jobs_total{outcome="ok"} 1' in text
    assert "dataeff_job_seconds_count 1" in text and "dataeff_queue_depth 0" in text


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_basic_auth_guards_label_studio_routes_and_api(make_app: AppFactory,
                                                       settings: Settings) -> None:
    client = make_app(settings.replace(basic_auth_user="ls", basic_auth_pass="pw")).test_client()
    for path in ("/health", "/versions", "/api/projects/1/estimate", "/metrics"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=_basic("ls", "bad")).status_code == 401
    response = client.get("/health")
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert "missing" in response.json["detail"]  # type: ignore[index]
    assert client.get("/health", headers=_basic("ls", "pw")).status_code == 200
    assert client.post("/setup", json=payload("setup")).status_code == 401
    ok = client.post("/setup", json=payload("setup"), headers=_basic("ls", "pw"))
    assert ok.status_code == 200
    # START_TRAINING comes from LS's ML client, with Basic auth
    assert client.post("/webhook", json=payload("start_training")).status_code == 401
    assert client.post("/webhook", json=payload("start_training"),
                       headers=_basic("ls", "pw")).status_code == 202


def test_webhook_secret_header(make_app: AppFactory, settings: Settings) -> None:
    client = make_app(settings.replace(webhook_secret="s3cret")).test_client()
    body = payload("annotation_created")
    missing = client.post("/webhook", json=body)
    assert missing.status_code == 401 and "X-Dataeff-Secret" in missing.json["detail"]  # type: ignore[index]
    wrong = client.post("/webhook", json=body, headers={"X-Dataeff-Secret": "nope"})
    assert wrong.status_code == 401 and "wrong" in wrong.json["detail"]  # type: ignore[index]
    ok = client.post("/webhook", json=body, headers={"X-Dataeff-Secret": "s3cret"})
    assert ok.status_code == 202
    # without Basic auth configured, LS's START_TRAINING (no custom headers) is accepted
    assert client.post("/webhook", json=payload("start_training")).status_code == 202
    assert client.get("/health").status_code == 200        # no Basic auth configured


def test_validation_crash_still_stores_the_event(client: FlaskClient, runtime: Runtime,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("bug in validation")

    monkeypatch.setattr("dataeff.service.protocol.parse_webhook", boom)
    response = client.post("/webhook", json=payload("annotation_created"))
    assert response.status_code == 202
    runtime.store.drain_inbox()
    with runtime.store.read() as conn:
        from dataeff.service.store import events

        (row,) = events.pending_events(conn, 1)
    assert row.action == "ANNOTATION_CREATED"
    assert json.loads(row.payload)["annotation"]["id"] == 17
