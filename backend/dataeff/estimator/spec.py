"""What an estimator works on: a task spec and its examples (pure Python, no torch).

A :class:`TaskSpec` says how to prompt the model (method §3: instruction as the system turn,
inputs as the user turn, the answer as the assistant turn); an :class:`Example` is one item
of the pool, labeled (``answer`` set) or not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeGuard

from dataeff.errors import InvalidInputError


@dataclass(frozen=True)
class TaskSpec:
    """How to turn an example into a prompt.

    ``instruction``: the system turn; ``input_fields``: the keys of ``Example.inputs`` shown to
    the model, in this order; ``answer_choices``: the allowed answers for classification tasks
    (``None`` for free text).
    """

    instruction: str
    input_fields: tuple[str, ...]
    answer_choices: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not self.input_fields:
            raise InvalidInputError("task spec: input_fields must name at least one field")
        if len(set(self.input_fields)) != len(self.input_fields):
            raise InvalidInputError(f"task spec: duplicate input_fields {list(self.input_fields)}")
        if self.answer_choices is not None and not self.answer_choices:
            raise InvalidInputError("task spec: answer_choices, when given, must not be empty")

    @classmethod
    def from_dict(cls, data: object) -> TaskSpec:
        """Build from ``{"instruction": str, "input_fields": [str], "answer_choices": [...]}``."""
        if not isinstance(data, Mapping):
            raise InvalidInputError("task spec must be a JSON object")
        unknown = set(data) - {"instruction", "input_fields", "answer_choices"}
        if unknown:
            raise InvalidInputError(f"task spec: unknown keys {sorted(unknown)}")
        instruction = data.get("instruction", "")
        fields = data.get("input_fields")
        choices = data.get("answer_choices")
        if not isinstance(instruction, str):
            raise InvalidInputError("task spec: instruction must be a string")
        if not _is_str_list(fields):
            raise InvalidInputError("task spec: input_fields must be a list of strings")
        if choices is not None and not _is_str_list(choices):
            raise InvalidInputError("task spec: answer_choices must be a list of strings or null")
        return cls(instruction, tuple(fields), None if choices is None else tuple(choices))

    def to_dict(self) -> dict[str, object]:
        return {
            "instruction": self.instruction,
            "input_fields": list(self.input_fields),
            "answer_choices": None if self.answer_choices is None else list(self.answer_choices),
        }


@dataclass(frozen=True)
class Example:
    """One pool item: ``inputs`` (field -> text), its ``answer`` when labeled, a stable ``key``.

    ``key`` identifies the example in error messages and gradient banks (for Label Studio:
    the task id).
    """

    inputs: Mapping[str, str] = field(hash=False)
    answer: str | None = None
    key: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.inputs, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.inputs.items()
        ):
            raise InvalidInputError(f"example {self.key!r}: inputs must map strings to strings")
        if self.answer is not None and not isinstance(self.answer, str):
            raise InvalidInputError(f"example {self.key!r}: answer must be a string or null")
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))

    def require_inputs(self, spec: TaskSpec) -> None:
        """Raise naming the example and field when an input the spec needs is missing."""
        missing = [f for f in spec.input_fields if f not in self.inputs]
        if missing:
            raise InvalidInputError(f"example {self.key!r}: missing input field(s) {missing}")


def _is_str_list(value: object) -> TypeGuard[Sequence[str]]:
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)


def keys_of(examples: Sequence[Example]) -> list[str]:
    """The examples' keys, or their positions where a key is empty."""
    return [e.key or str(i) for i, e in enumerate(examples)]
