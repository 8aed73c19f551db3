"""Parse fully rendered chat prompts back into turns (pure Python).

The paper's demo files (method §11) hold ``input_text`` rows that are complete Llama-3.1 chat
prompts ending with the assistant header. dataeff re-renders them with the *target* model's
own chat template, so it needs the system and user turns back. Llama-3 and ChatML markup are
understood; the Llama-3.1 template's date preamble in the system turn is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dataeff.errors import InvalidInputError

_LLAMA3 = re.compile(r"<\|start_header_id\|>(\w+)<\|end_header_id\|>\n\n(.*?)(?:<\|eot_id\|>|$)",
                     re.DOTALL)
_CHATML = re.compile(r"<\|im_start\|>(\w+)\n(.*?)(?:<\|im_end\|>\n?|$)", re.DOTALL)
_LLAMA31_PREAMBLE = re.compile(r"^Cutting Knowledge Date: [^\n]*\nToday Date: [^\n]*\n\n")


@dataclass(frozen=True)
class ChatPrompt:
    """A single-exchange prompt: the system turn ("" when absent) and the user turn."""

    system: str
    user: str


def parse_chat_prompt(text: str, *, item: str = "") -> ChatPrompt:
    """Split a rendered Llama-3 or ChatML prompt into its system and user turns.

    The prompt must hold at most one system turn, exactly one user turn, and end with an empty
    assistant turn (the generation prompt). ``item`` names the row in error messages.
    """
    if "<|start_header_id|>" in text:
        turns = [(m.group(1), m.group(2)) for m in _LLAMA3.finditer(text)]
    elif "<|im_start|>" in text:
        turns = [(m.group(1), m.group(2)) for m in _CHATML.finditer(text)]
    else:
        raise InvalidInputError(
            f"{item}: input_text is not a rendered Llama-3 or ChatML chat prompt"
        )
    roles = [role for role, _ in turns]
    if roles not in (["system", "user", "assistant"], ["user", "assistant"]) or turns[-1][1]:
        raise InvalidInputError(
            f"{item}: input_text must be [system,] user, then an empty assistant turn; "
            f"found turns {roles}"
        )
    contents = dict(turns)
    system = _LLAMA31_PREAMBLE.sub("", contents.get("system", ""))
    return ChatPrompt(system=system, user=contents["user"])
