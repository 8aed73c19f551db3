"""How dataeff shows its estimate inside Label Studio (LS §6).

Two channels, chosen so that annotators see the estimate while labeling and so that a
re-estimation costs a bounded number of writes:

* the **status control**: a read-only ``TextArea`` whose name starts with ``dataeff_status``
  (XML: :func:`status_control_xml`, the same as ``plugin/status-control.xml``; found by
  :func:`find_status_control`, added by :func:`add_status_control`). Predictions carry a
  region with the current status sentence in it (:func:`status_region`); Label Studio shows it
  pre-filled in the editor. :mod:`dataeff.labelstudio.mapping` skips this control when it
  picks the target and when it reads answers, so a submitted status text never becomes
  training data.
* the **project instructions** (``expert_instruction`` + ``show_instruction``) carry the
  project-wide flag (keep labeling / stop) in one paragraph that dataeff owns
  (:func:`merge_instruction`); the project manager's own text around it is kept. It is
  rewritten only when the verdict kind changes.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache

from dataeff.errors import ConfigError, InvalidInputError

STATUS_CONTROL_PREFIX = "dataeff_status"  # also the name of the control dataeff adds
NO_ESTIMATE_TEXT = ("dataeff: no estimate yet. Label the tasks in the order they are served "
                    "(least confident first); the estimate appears after a few labels.")

# One paragraph per verdict kind (the values of dataeff.efficiency's VerdictKind).
_FLAGS = {
    "collecting": "collecting labels. Please label the tasks in the order Label Studio serves "
                  "them: the least confident ones come first, and those are the ones dataeff "
                  "needs for its estimate.",
    "keep_labeling": "keep labeling. More labeled examples are still expected to help; the "
                     "box 'dataeff status' in each task shows how many.",
    "target_reached": "STOP labeling: the labeled set most likely reaches the project's "
                      "target already. More labels are unlikely to help.",
    "diminishing_returns": "STOP labeling: more labeled examples are predicted to add less "
                           "than the project's minimal useful gain.",
    "target_out_of_reach": "the project's target lies beyond the calibrated range "
                           "(more examples than the maximum budget); consider a lower target "
                           "or a different model before labeling much more.",
}
_BLOCK = re.compile(r"\s*<p[^>]*>\s*<b>\s*dataeff:\s*</b>.*?</p>", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class StatusControl:
    """The status TextArea of a label config: its name and the object it is bound to."""

    name: str
    to_name: str


def is_status_control(name: str) -> bool:
    return name.startswith(STATUS_CONTROL_PREFIX)


def status_control_xml(to_name: str, name: str = STATUS_CONTROL_PREFIX) -> str:
    """The status control's XML (``plugin/status-control.xml`` with ``toName`` filled in).

    ``maxSubmissions="0"`` hides the input box in Label Studio 1.23.2's editor, with or
    without an estimate, so annotators only ever see dataeff's text (``"1"`` shows an empty
    input with an *Add* button on tasks that have no prediction yet); ``editable="false"``
    keeps the pre-filled text read-only.
    """
    return (
        f'<TextArea name="{name}" toName="{to_name}" rows="2" editable="false" '
        f'maxSubmissions="0" placeholder="dataeff: estimate not available yet"/>'
    )


def _parse(label_config: str) -> ET.Element:
    try:
        return ET.fromstring(label_config)
    except ET.ParseError as error:
        raise InvalidInputError(f"label config is not valid XML: {error}") from error


@lru_cache(maxsize=64)
def find_status_control(label_config: str) -> StatusControl | None:
    """The config's status control (the first element named ``dataeff_status*``), if any.

    Bound to the first object of its ``toName``. Raises :class:`InvalidInputError` when the
    config is not XML and :class:`ConfigError` when an element named ``dataeff_status*`` is not
    a ``TextArea`` or names no object (``dataeff connect``, ``/setup``'s job and ``/predict``
    all refuse such a config with that message instead of silently showing no status).
    """
    found: StatusControl | None = None
    for element in _parse(label_config).iter():
        name = element.get("name", "")
        if not is_status_control(name):
            continue
        if element.tag != "TextArea":
            raise ConfigError(f"label config: {name!r} must be a TextArea, not {element.tag}")
        to_name = element.get("toName", "").split(",")[0].strip()
        if not to_name:
            raise ConfigError(f"label config: the TextArea {name!r} has no toName")
        found = found or StatusControl(name, to_name)
    return found


def first_text_object(label_config: str) -> str:
    """The ``name`` of the first ``<Text>`` object: what the status control is bound to."""
    for element in _parse(label_config).iter("Text"):
        if element.get("name"):
            return str(element.get("name"))
    raise InvalidInputError("label config has no <Text name=...> object to attach the status to")


def add_status_control(label_config: str) -> str:
    """``label_config`` with the status control added at the top of the root ``<View>``;
    unchanged when it already has one. Only inserts text: the rest stays byte for byte."""
    if find_status_control(label_config) is not None:
        return label_config
    root = _parse(label_config)
    if root.tag != "View":
        raise InvalidInputError(f"label config: the root element must be <View>, not <{root.tag}>")
    opening = re.search(r"<View\b[^>]*?(/?)>", label_config)
    if opening is None or opening.group(1):
        raise InvalidInputError("label config: the root <View> is empty")
    snippet = status_control_xml(first_text_object(label_config))
    at = opening.end()
    return f"{label_config[:at]}\n  {snippet}{label_config[at:]}"


def status_region(control: StatusControl, text: str) -> dict[str, object]:
    """A prediction region that fills the status control with ``text``."""
    return {"from_name": control.name, "to_name": control.to_name, "type": "textarea",
            "value": {"text": [text]}}


def instruction_block(verdict_kind: str) -> str:
    """dataeff's paragraph of the project instructions for a verdict kind."""
    flag = _FLAGS.get(verdict_kind, _FLAGS["collecting"])
    return f"<p><b>dataeff:</b> {html.escape(flag, quote=False)}</p>"


def merge_instruction(existing: str | None, block: str) -> str:
    """``existing`` instructions with dataeff's paragraph replaced (or prepended) by ``block``.

    Idempotent: merging the same block twice gives the same text, so comparing the result
    with the current instructions tells whether a write is needed at all.
    """
    rest = _BLOCK.sub("", existing or "").strip()
    return block if not rest else f"{block}\n{rest}"
