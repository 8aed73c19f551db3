"""Label Studio test data and helpers shared by the service and integration tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from dataeff.labelstudio.fake import FakeLabelStudio

PAYLOADS = Path(__file__).resolve().parent / "payloads"
XML = (PAYLOADS / "label_config_choices.xml").read_text()
N_TASKS = 40
AppFactory = Callable[..., Flask]


def payload(name: str) -> dict[str, Any]:
    """A recorded Label Studio payload (a fresh copy each call)."""
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    return data


def task_text(task_id: int) -> str:
    return f"Question {task_id}? -- answer {task_id}"


def annotation(ann_id: int, task_id: int, choice: str, *, stamp: int = 0,
               cancelled: bool = False) -> dict[str, Any]:
    return {"id": ann_id, "task": task_id, "project": 1, "was_cancelled": cancelled,
            "updated_at": f"2026-11-29T10:{stamp // 60:02d}:{stamp % 60:02d}.000000Z",
            "result": [] if cancelled else [{"from_name": "label", "to_name": "text",
                                             "type": "choices", "value": {"choices": [choice]}}]}


def annotation_event(ann: dict[str, Any], action: str = "ANNOTATION_CREATED") -> dict[str, Any]:
    return {"action": action, "annotation": ann,
            "task": {"id": ann["task"], "project": 1, "data": {"text": task_text(ann["task"])}},
            "project": {"id": 1, "label_config": XML}}


def send(ls: FakeLabelStudio, client: FlaskClient, ann: dict[str, Any],
         action: str = "ANNOTATION_CREATED") -> None:
    """Label in Label Studio and deliver the matching webhook."""
    ls.add_annotation(ann)
    response = client.post("/webhook", json=annotation_event(ann, action))
    assert response.status_code == 202, response.json
