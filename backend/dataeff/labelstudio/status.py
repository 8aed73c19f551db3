"""How dataeff shows its estimate inside Label Studio (LS §6).

Two channels, chosen so that annotators see the estimate while labeling and so that a
re-estimation costs a bounded number of writes:

* the **status control**: a read-only ``TextArea`` whose name starts with ``dataeff_status``
  (snippet: :func:`status_control_snippet`). Predictions carry a region with the current
  status sentence in it (:func:`status_region`); Label Studio shows it pre-filled in the
  editor. :mod:`dataeff.labelstudio.mapping` skips this control when it picks the target and
  when it reads answers, so a submitted status text never becomes training data.
* the **project instructions** (``expert_instruction`` + ``show_instruction``) carry the
  project-wide flag (keep labeling / stop) in one paragraph that dataeff owns
  (:func:`merge_instruction`); the project manager's own text around it is kept. It is
  rewritten only when the verdict kind changes.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

STATUS_CONTROL_PREFIX = "dataeff_status"
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


def status_control_snippet(to_name: str = "text", name: str = STATUS_CONTROL_PREFIX) -> str:
    """The label-config XML of a status control bound to object ``to_name``."""
    return (f'<TextArea name="{name}" toName="{to_name}" editable="false" rows="2" '
            'maxSubmissions="1" placeholder="dataeff: no estimate yet"/>')


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
