"""Render task + example as the model's own chat prompt, and tokenize it (method §3, §5).

The instruction is the system turn (with the answer choices appended when the spec lists
them), the inputs are the user turn, the answer is the assistant turn. Prompts end with the
template's generation prompt (the assistant header).

Answer boundary (method §5 caveat): the answer is tokenized on its own and appended to the
prompt's ids, so the loss covers exactly the answer's tokens even where a joint tokenization
of prompt + answer would merge tokens across the boundary. Like the reference, no
end-of-turn token is appended after the answer. Only ``tokenizer`` methods are used here
(no torch import).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dataeff.errors import InvalidInputError
from dataeff.estimator.spec import Example, TaskSpec


@dataclass(frozen=True)
class LabeledIds:
    """Token ids of one labeled example: ``ids = prompt ids + answer ids``; ``n_prompt``:
    how many leading ids belong to the prompt; ``scored``: per answer token, whether it
    counts in the loss (special and end tokens do not)."""

    key: str
    ids: tuple[int, ...]
    n_prompt: int
    scored: tuple[bool, ...]


def system_turn(spec: TaskSpec) -> str:
    """The instruction, plus one line listing the allowed answers when the spec has them."""
    if spec.answer_choices is None:
        return spec.instruction
    choices = "Answer with exactly one of: " + ", ".join(spec.answer_choices) + "."
    return f"{spec.instruction}\n\n{choices}" if spec.instruction else choices


def user_turn(spec: TaskSpec, example: Example) -> str:
    """One input field: its text alone; several: ``field: text`` blocks in spec order."""
    example.require_inputs(spec)
    if len(spec.input_fields) == 1:
        return example.inputs[spec.input_fields[0]]
    return "\n\n".join(f"{field}: {example.inputs[field]}" for field in spec.input_fields)


def render_prompt(tokenizer: Any, spec: TaskSpec, example: Example) -> str:
    """The chat-templated prompt text, ending with the assistant header."""
    messages = []
    system = system_turn(spec)
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": user_turn(spec, example)})
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    if not isinstance(text, str):
        raise InvalidInputError(f"example {example.key!r}: the chat template did not give text")
    return text


def prompt_ids(tokenizer: Any, spec: TaskSpec, example: Example) -> list[int]:
    """Token ids of the rendered prompt (the template already holds any BOS token)."""
    ids: list[int] = tokenizer(render_prompt(tokenizer, spec, example),
                               add_special_tokens=False)["input_ids"]
    return ids


def encode_labeled(
    tokenizer: Any, spec: TaskSpec, example: Example, *, max_length: int,
    unscored: Iterable[int] = (),
) -> LabeledIds:
    """Prompt + answer ids of a labeled example; ``unscored``: ids left out of the loss.

    Raises :class:`InvalidInputError` naming the example when the answer is missing, empty,
    has no scored token, or prompt + answer exceed ``max_length`` tokens.
    """
    if example.answer is None:
        raise InvalidInputError(f"example {example.key!r}: no answer (gradients need a label)")
    if not example.answer.strip():
        raise InvalidInputError(f"example {example.key!r}: the answer is empty")
    prompt = prompt_ids(tokenizer, spec, example)
    answer: list[int] = tokenizer(example.answer, add_special_tokens=False)["input_ids"]
    skip = set(unscored)
    scored = tuple(token not in skip for token in answer)
    if not any(scored):
        raise InvalidInputError(
            f"example {example.key!r}: the answer {example.answer!r} has only special tokens"
        )
    if len(prompt) + len(answer) > max_length:
        raise InvalidInputError(
            f"example {example.key!r}: prompt ({len(prompt)} tokens) + answer ({len(answer)} "
            f"tokens) exceed the model's context of {max_length} tokens"
        )
    return LabeledIds(example.key, tuple(prompt + answer), len(prompt), scored)
