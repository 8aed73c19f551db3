"""The re-estimation job end to end: store, scorer, Label Studio writes, determinism."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lsdata import XML, AppFactory, annotation, annotation_event, payload, send

from dataeff.estimator.fake import FakeScorer
from dataeff.labelstudio.fake import FakeLabelStudio
from dataeff.service.runtime import Runtime
from dataeff.service.selection import low_confidence_set
from dataeff.service.store import pool
from dataeff.settings import Settings

PARAMS = {"min_examples": 4, "low_confidence_fraction": 0.25}


def _setup(client: FlaskClient, runtime: Runtime, params: dict[str, Any] = PARAMS) -> list[int]:
    """Set the project up, run the first job; returns task ids least confident first."""
    assert client.post("/setup", json={"project": "1.1", "schema": XML,
                                       "extra_params": params}).status_code == 200
    runtime.wait_idle()
    with runtime.store.read() as conn:
        scores = {t.task_id: t.confidence for t in pool.load_tasks(conn, 1)}
    return sorted(scores, key=lambda t: (scores[t], t))  # type: ignore[arg-type]


def _estimate(client: FlaskClient) -> dict[str, Any]:
    body = client.get("/api/projects/1/estimate").json
    assert body is not None
    return body


def test_first_job_scores_every_task_and_writes_one_prediction_each(
        client: FlaskClient, runtime: Runtime, fake_ls: FakeLabelStudio) -> None:
    order = _setup(client, runtime)
    assert len(order) == 40
    creates = [w for w in fake_ls.writes if w[0] == "predictions.create"]
    assert len(creates) == 40
    for p in fake_ls.predictions.values():
        assert p.model_version == "dataeff-conf-v1"
        assert p.result[0]["from_name"] == "dataeff_status"
    body = _estimate(client)
    assert body["counts"] == {"tasks": 40, "scored": 40, "annotated": 0, "low_confidence": 10,
                              "low_confidence_annotated": 0, "needed_low_confidence": 4}
    assert body["verdict"] == "collecting" and body["state"] == "idle"
    assert fake_ls.projects[1]["show_instruction"] is True
    assert "dataeff:" in fake_ls.projects[1]["expert_instruction"]
    # a second job with nothing new writes nothing to Label Studio
    writes = len(fake_ls.writes)
    runtime.request_reconcile([1], "test")
    runtime.wait_idle()
    assert len(fake_ls.writes) == writes


def test_labels_on_low_confidence_tasks_give_an_estimate_with_bounded_writes(
        client: FlaskClient, runtime: Runtime, fake_ls: FakeLabelStudio) -> None:
    order = _setup(client, runtime)
    writes = len(fake_ls.writes)
    for i, task_id in enumerate(order[:6]):
        send(fake_ls, client, annotation(100 + i, task_id, ["yes", "no"][i % 2], stamp=i))
    runtime.wait_idle()
    body = _estimate(client)
    assert body["counts"]["annotated"] == 6 and body["counts"]["low_confidence_annotated"] == 6
    assert body["coslow"] is not None and 0.0 < body["coslow"] < 1.0
    lo, hi = body["coslow_interval"]
    assert lo <= body["coslow"] <= hi
    assert body["examples_needed"] is not None and body["curve"][0] == [0.0, 0.0]
    assert body["verdict"] != "collecting"
    assert [h["verdict"] for h in body["history"]][-1] == "collecting"
    new_writes = fake_ls.writes[writes:]
    # status refresh: at most refresh_tasks (3) prediction updates, + one instruction write
    assert len([w for w in new_writes if w[0] == "predictions.update"]) <= 3
    assert len([w for w in new_writes if w[0] == "projects.update"]) <= 1
    assert not [w for w in new_writes if w[0] == "predictions.create"]
    # the front of the serving order shows the new status sentence
    front = [t for t in order if t not in order[:6]][:3]
    texts = {p.task_id: p.result[0]["value"]["text"][0] for p in fake_ls.predictions.values()}
    assert all(texts[t] == body["message"] for t in front)


def test_instruction_is_written_only_when_the_verdict_kind_changes(
        client: FlaskClient, runtime: Runtime, fake_ls: FakeLabelStudio) -> None:
    fake_ls.projects[1]["expert_instruction"] = "<p>Label carefully.</p>"
    order = _setup(client, runtime)
    first = fake_ls.projects[1]["expert_instruction"]
    assert first.endswith("<p>Label carefully.</p>") and first.count("dataeff:") == 1
    send(fake_ls, client, annotation(100, order[0], "yes"))
    runtime.wait_idle()
    updates = [w for w in fake_ls.writes if w[0] == "projects.update"]
    assert len(updates) == 1                      # still collecting: no second write
    echo = payload("project_updated")
    echo["project"]["label_config"] = XML
    assert client.post("/webhook", json=echo).json["status"] == "ignored"  # type: ignore[index]


def test_delete_and_change_update_the_sketches(client: FlaskClient, runtime: Runtime,
                                               fake_ls: FakeLabelStudio) -> None:
    order = _setup(client, runtime)
    for i, task_id in enumerate(order[:4]):
        send(fake_ls, client, annotation(100 + i, task_id, "yes", stamp=i))
    runtime.wait_idle()
    before = _estimate(client)
    with runtime.store.read() as conn:
        n_sketches = len(pool.load_sketches(conn, 1, _score_key(runtime),
                                            _all_keys(runtime)))
    assert n_sketches == 4
    # change one answer: its sketch is recomputed, the old one pruned
    send(fake_ls, client, annotation(100, order[0], "no", stamp=30), "ANNOTATION_UPDATED")
    runtime.wait_idle()
    changed = _estimate(client)
    assert changed["coslow"] != before["coslow"]
    # delete it: CoS-Low over the 3 others, and the example no longer counts
    fake_ls.delete_annotation(100)
    client.post("/webhook", json={"action": "ANNOTATIONS_DELETED", "annotations": [{"id": 100}],
                                  "project": {"id": 1}})
    runtime.wait_idle()
    after = _estimate(client)
    assert after["counts"]["annotated"] == 3 and after["counts"]["low_confidence_annotated"] == 3
    with runtime.store.read() as conn:
        assert len(pool.load_sketches(conn, 1, _score_key(runtime), _all_keys(runtime))) == 3


def test_cancelled_annotations_are_ignored_and_the_latest_wins(
        client: FlaskClient, runtime: Runtime, fake_ls: FakeLabelStudio) -> None:
    order = _setup(client, runtime)
    send(fake_ls, client, annotation(100, order[0], "", cancelled=True))
    runtime.wait_idle()
    assert _estimate(client)["counts"]["annotated"] == 0
    send(fake_ls, client, annotation(101, order[0], "yes", stamp=1))
    send(fake_ls, client, annotation(102, order[0], "no", stamp=2))
    runtime.wait_idle()
    assert _estimate(client)["counts"]["annotated"] == 1
    from dataeff.labelstudio.mapping import map_label_config
    from dataeff.service.selection import answers_by_task

    with runtime.store.read() as conn:
        answers = answers_by_task(map_label_config(XML).target, pool.load_annotations(conn, 1))
    assert answers == {order[0]: "no"}


def test_incremental_estimate_equals_one_from_scratch(
        make_app: AppFactory, settings: Settings, tmp_path: Any,
        fake_ls: FakeLabelStudio) -> None:
    live = make_app(settings)
    client, runtime = live.test_client(), live.extensions["dataeff"]
    order = _setup(client, runtime)
    for i, task_id in enumerate(order[:7]):
        send(fake_ls, client, annotation(100 + i, task_id, ["yes", "no", "maybe"][i % 3],
                                         stamp=i))
        if i % 2:
            runtime.wait_idle()                    # jobs at irregular points
    send(fake_ls, client, annotation(101, order[1], "maybe", stamp=50), "ANNOTATION_UPDATED")
    runtime.wait_idle()
    incremental = _estimate(client)
    scratch = _fresh(make_app, settings, tmp_path, fake_ls)
    for key in ("coslow", "coslow_interval", "examples_needed", "examples_needed_interval",
                "verdict", "message", "counts", "curve", "remaining"):
        assert incremental[key] == scratch[key], key


def _fresh(make_app: AppFactory, settings: Settings, tmp_path: Any,
           ls: FakeLabelStudio) -> dict[str, Any]:
    """A new service on an empty store that learns everything by reconciling."""
    fresh_dir = tmp_path / "scratch"
    app: Flask = make_app(settings.replace(data_dir=fresh_dir), score=FakeScorer())
    client, runtime = app.test_client(), app.extensions["dataeff"]
    client.post("/setup", json={"project": "1.1", "schema": XML, "extra_params": PARAMS})
    runtime.wait_idle()
    return _estimate(client)


def test_reconcile_repairs_missed_webhooks(client: FlaskClient, runtime: Runtime,
                                           fake_ls: FakeLabelStudio) -> None:
    order = _setup(client, runtime)
    for i, task_id in enumerate(order[:5]):
        fake_ls.add_annotation(annotation(100 + i, task_id, "yes", stamp=i))   # no webhooks
    fake_ls.add_task(1, 41, {"text": "a task created while dataeff was down"})
    assert _estimate(client)["counts"]["annotated"] == 0
    assert client.post("/webhook", json=payload("start_training")).status_code == 202
    runtime.wait_idle()
    body = _estimate(client)
    assert body["counts"]["annotated"] == 5 and body["counts"]["tasks"] == 41


def test_label_studio_outage_keeps_the_estimate_and_reports_it(
        client: FlaskClient, runtime: Runtime, fake_ls: FakeLabelStudio) -> None:
    order = _setup(client, runtime)
    fake_ls.down = True
    client.post("/webhook", json=annotation_event(annotation(100, order[0], "yes")))
    runtime.wait_idle()
    body = _estimate(client)
    assert body["counts"]["annotated"] == 1
    assert body["error"] is not None and "connection refused" in body["error"]
    fake_ls.down = False
    client.post("/webhook", json=annotation_event(annotation(101, order[1], "no", stamp=3)))
    runtime.wait_idle()
    assert _estimate(client)["error"] is None


def test_a_bad_event_is_marked_and_skipped(client: FlaskClient, runtime: Runtime) -> None:
    _setup(client, runtime)
    runtime.accept(1, "ANNOTATION_CREATED", "bad-1", '{"action": "ANNOTATION_CREATED"}')
    (result,) = runtime.queue.run_pending()  # type: ignore[attr-defined]
    assert result.outcome == "ok"
    from sqlalchemy import select

    from dataeff.service.store.schema import events

    with runtime.store.read() as conn:
        row = conn.execute(select(events).where(events.c.delivery_key == "bad-1")).one()
    assert row.processed_at is not None and "KeyError" in row.error


def test_events_are_applied_together_and_singly_when_that_fails(
        client: FlaskClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run of events is one transaction; a database error there falls back to one event at
    a time, so only the event that fails is marked with its error."""
    from sqlalchemy.exc import OperationalError

    _setup(client, runtime)
    runtime.queue.run_pending()  # type: ignore[attr-defined]
    upsert = pool.upsert_annotations

    def fussy(conn: Any, pid: int, records: Any) -> None:
        records = list(records)
        if any(r.id == 502 for r in records):
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        upsert(conn, pid, records)

    monkeypatch.setattr(pool, "upsert_annotations", fussy)
    for i, ann_id in enumerate((501, 502, 503)):
        client.post("/webhook", json=annotation_event(annotation(ann_id, 1 + i, "yes")))
    (result,) = runtime.queue.run_pending()  # type: ignore[attr-defined]
    assert result.outcome == "ok"
    from sqlalchemy import select

    from dataeff.service.store.schema import annotations_table, events

    with runtime.store.read() as conn:
        stored = set(conn.execute(select(annotations_table.c.annotation_id)).scalars())
        errors = dict(conn.execute(select(events.c.delivery_key, events.c.error).where(
            events.c.action == "ANNOTATION_CREATED")).all())
    assert {501, 503} <= stored and 502 not in stored
    assert sorted(e is not None and "disk I/O error" in e for e in errors.values()) == [
        False, False, True]


def test_unusable_config_is_reported_not_crashed(client: FlaskClient, runtime: Runtime,
                                                 fake_ls: FakeLabelStudio) -> None:
    fake_ls.projects[1]["label_config"] = '<View><Image name="i" value="$img"/></View>'
    client.post("/setup", json={"project": "1.1", "schema": fake_ls.projects[1]["label_config"]})
    (result,) = runtime.queue.run_pending()  # type: ignore[attr-defined]
    assert result.outcome == "error"
    assert "no control dataeff can learn from" in _estimate(client)["error"]


def test_low_confidence_set_takes_the_bottom_share_or_min_examples() -> None:
    scores = {i: i / 100 for i in range(1, 101)}
    assert low_confidence_set(scores, 0.1, 32) == list(range(1, 33))
    assert low_confidence_set(scores, 0.5, 32) == list(range(1, 51))
    assert low_confidence_set({1: 0.5, 2: 0.5, 3: 0.1}, 0.1, 2) == [3, 1]
    assert low_confidence_set({}, 0.1, 32) == []


def _score_key(runtime: Runtime) -> str:
    from dataeff.labelstudio.mapping import map_label_config

    scorer = runtime.scorers.get(None)
    return f"{scorer.model_key}|{map_label_config(XML).spec_hash}"


def _all_keys(runtime: Runtime) -> list[tuple[int, str]]:
    from sqlalchemy import select

    from dataeff.service.store.schema import sketches

    with runtime.store.read() as conn:
        return [(r.task_id, r.answer_hash) for r in conn.execute(select(sketches))]
