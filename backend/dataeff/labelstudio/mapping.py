"""Label Studio label config -> :class:`~dataeff.estimator.spec.TaskSpec` (LS §7).

:func:`map_label_config` picks the *target control* (the one whose annotations are the
answers the model is fine-tuned on): the control named in the project parameters, else the
first supported control in config order, skipping dataeff's own status control. Inputs are the
data fields of the text object tags (``<Text value="$text"/>`` -> field ``text``) in config
order; the instruction comes from the project parameters, else the static ``<Header>`` texts
of the config, else a sentence built from the control (its labels, its range).
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dataeff.errors import ConfigError, InvalidInputError
from dataeff.estimator.spec import Example, TaskSpec
from dataeff.labelstudio.status import StatusControl, find_status_control, is_status_control

#: control tag -> region type of its results
SUPPORTED_CONTROLS = {"Choices": "choices", "TextArea": "textarea", "Labels": "labels",
                      "Rating": "rating", "Number": "number"}
TEXT_OBJECTS = frozenset({"Text", "HyperText", "Paragraphs", "Table"})


@dataclass(frozen=True)
class TargetControl:
    """The control whose annotation is the answer: ``kind`` is its region type."""

    name: str
    tag: str
    kind: str
    to_name: tuple[str, ...]
    labels: tuple[str, ...] = ()
    multiple: bool = False
    attrs: tuple[tuple[str, str], ...] = ()

    def attr(self, key: str, default: str = "") -> str:
        return dict(self.attrs).get(key, default)


@dataclass(frozen=True)
class ProjectMapping:
    """How one project's tasks and annotations become examples."""

    spec: TaskSpec
    target: TargetControl
    status: StatusControl | None
    config_hash: str

    @property
    def spec_hash(self) -> str:
        """Identifies what the model sees (instruction, fields, answer choices)."""
        text = json.dumps([self.spec.to_dict(), self.target.name], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def config_hash(xml: str) -> str:
    return hashlib.sha256(xml.encode()).hexdigest()[:16]


def map_label_config(xml: str, *, control: str | None = None,
                     instruction: str | None = None) -> ProjectMapping:
    """Build the project mapping; :class:`ConfigError` names what is missing or unsupported."""
    interface = _interface(xml)
    controls = [c for c in interface.controls if not is_status_control(c.name)]
    if control is not None:
        chosen = [c for c in controls if c.name == control]
        if not chosen:
            names = [c.name for c in controls]
            raise ConfigError(f"control {control!r} is not in the label config (has {names})")
        if chosen[0].tag not in SUPPORTED_CONTROLS:
            raise ConfigError(f"control {control!r} is a {chosen[0].tag}; dataeff supports "
                              f"{sorted(SUPPORTED_CONTROLS)}")
    else:
        chosen = [c for c in controls if c.tag in SUPPORTED_CONTROLS]
        if not chosen:
            raise ConfigError("the label config has no control dataeff can learn from "
                              f"(one of {sorted(SUPPORTED_CONTROLS)})")
    tag = chosen[0]
    target = TargetControl(
        name=tag.name, tag=tag.tag, kind=SUPPORTED_CONTROLS[tag.tag],
        to_name=tuple(tag.to_name or ()), labels=tuple(tag.labels or ()),
        multiple=str(tag.attr.get("choice", "single")) == "multiple",
        attrs=tuple(sorted((str(k), str(v)) for k, v in tag.attr.items())),
    )
    objects = {o.name: o for o in interface.objects}
    for name in target.to_name:
        obj = objects.get(name)
        if obj is not None and obj.tag not in TEXT_OBJECTS:
            raise ConfigError(f"control {target.name!r} labels a {obj.tag} object {name!r}; "
                              "dataeff estimates text tasks only")
    fields: list[str] = []
    for obj in interface.objects:
        value = str(obj.value or "")
        if obj.tag in TEXT_OBJECTS and value.startswith("$") and value[1:] not in fields:
            fields.append(value[1:])
    if not fields:
        raise ConfigError("the label config has no text object bound to a task field "
                          "(e.g. <Text name=\"text\" value=\"$text\"/>)")
    text = instruction if instruction else (_header_text(xml) or _default_instruction(target))
    choices = target.labels if target.kind == "choices" and not target.multiple else None
    spec = TaskSpec(text, tuple(fields), choices or None)
    return ProjectMapping(spec, target, find_status_control(xml), config_hash(xml))


def example_for_task(mapping: ProjectMapping, task_id: int, data: Mapping[str, Any],
                     answer: str | None = None) -> Example:
    """The example of one task; :class:`InvalidInputError` when a field is missing."""
    inputs: dict[str, str] = {}
    for name in mapping.spec.input_fields:
        if name not in data or data[name] is None:
            raise InvalidInputError(f"task {task_id}: data has no field {name!r} "
                                    f"(has {sorted(data)})")
        value = data[name]
        inputs[name] = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return Example(inputs, answer, str(task_id))


def answer_from_result(target: TargetControl, result: object) -> str | None:
    """The answer string a target control's regions in ``result`` stand for, or ``None``.

    choices: the label (multiple: labels in config order joined by ``", "``); textarea: the
    texts joined by newlines; labels: ``"<label>: <span text>"`` lines in text order; rating
    and number: the number.
    """
    if not isinstance(result, list):
        return None
    regions = [r for r in result if isinstance(r, dict) and r.get("from_name") == target.name
               and isinstance(r.get("value"), dict)]
    if not regions:
        return None
    if target.kind == "choices":
        picked = {str(c) for r in regions for c in r["value"].get("choices") or []}
        ordered = [c for c in target.labels if c in picked] + sorted(picked - set(target.labels))
        return ", ".join(ordered) if target.multiple else (ordered[0] if ordered else None)
    if target.kind == "textarea":
        texts = [str(t) for r in regions for t in r["value"].get("text") or []]
        joined = "\n".join(t.strip() for t in texts if t.strip())
        return joined or None
    if target.kind == "labels":
        spans = sorted((r["value"].get("start") or 0, str(label), str(r["value"].get("text", "")))
                       for r in regions for label in r["value"].get("labels") or [])
        return "\n".join(f"{label}: {text}" for _, label, text in spans) or None
    number = regions[0]["value"].get(target.kind)
    if isinstance(number, bool) or not isinstance(number, int | float):
        return None
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def _interface(xml: str) -> Any:
    if not isinstance(xml, str) or not xml.strip():
        raise ConfigError("the project has no label config yet")
    from label_studio_sdk.label_interface.interface import LabelInterface

    try:
        return LabelInterface(xml)
    except Exception as error:  # the SDK raises plain Exception subclasses for bad XML
        raise ConfigError(f"label config is not valid: {error}") from None


def _header_text(xml: str) -> str:
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return ""
    texts = [h.get("value", "").strip() for h in root.iter("Header")]
    return " ".join(t for t in texts if t and "$" not in t)


def _default_instruction(target: TargetControl) -> str:
    labels = ", ".join(target.labels)
    if target.kind == "choices":
        if target.multiple:
            return (f"Choose every label that applies to the input from: {labels}. "
                    "Answer with the labels only, separated by ', '.")
        return f"Classify the input as one of: {labels}. Answer with the label only."
    if target.kind == "labels":
        return (f"List the spans of the input that are one of: {labels}. "
                "Answer one '<label>: <span>' per line.")
    if target.kind == "rating":
        return (f"Rate the input from 1 to {target.attr('maxRating', '5')}. "
                "Answer with the number only.")
    if target.kind == "number":
        low, high = target.attr("min"), target.attr("max")
        bounds = f" between {low} and {high}" if low and high else ""
        return f"Answer with a number{bounds} for the input. Answer with the number only."
    return target.attr("placeholder") or "Write the answer for the input."
