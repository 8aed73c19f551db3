"""Read task specs, pools and annotated examples from files (pure Python, no torch).

Rows are JSON objects, one per line (``.jsonl``) or in one JSON list (``.json``), in either form:

* ``{"inputs": {field: text, ...}, "answer": str | null, "key": str?}`` with a task spec;
* ``{"input_text": "<rendered chat prompt>", "ground_truth": int?}`` as in the paper's demo
  files (method §11): the prompt is parsed back into its turns (:mod:`.chatformat`) so the
  target model's own template renders it; the system turn becomes the instruction and the
  user turn the single input field ``input``; ``ground_truth`` becomes the answer string.

A row without ``key`` (or ``id``) is keyed by its 0-based position in the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dataeff.datafiles.jsonfiles import parse_json, read_json, read_text
from dataeff.errors import InvalidInputError
from dataeff.estimator.chatformat import parse_chat_prompt
from dataeff.estimator.spec import Example, TaskSpec

RENDERED_FIELD = "input"
"""The one input field of examples read from ``input_text`` rows."""


def read_task(path: Path) -> TaskSpec:
    """A task spec file ``{"instruction", "input_fields", "answer_choices"}``."""
    try:
        return TaskSpec.from_dict(read_json(path, "task"))
    except InvalidInputError as error:
        raise InvalidInputError(f"{path}: {error}") from None


def read_rows(path: Path) -> list[Mapping[str, Any]]:
    """Rows of a ``.jsonl`` file (blank lines skipped) or of a ``.json`` list of objects."""
    path = Path(path)
    if path.suffix == ".json":
        data = read_json(path, "examples")
        if not isinstance(data, list):
            raise InvalidInputError(f"{path}: expected a JSON list of objects")
        rows = data
    else:
        lines = read_text(path, "examples").splitlines()
        rows = [parse_json(line, f"{path} line {number}", "examples")
                for number, line in enumerate(lines, start=1) if line.strip()]
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise InvalidInputError(f"{path} row {index}: expected a JSON object")
    return rows


def load_examples(
    path: Path, spec: TaskSpec | None = None, *, labeled: bool = False
) -> tuple[TaskSpec, list[Example]]:
    """The task spec and the examples of a pool or annotated file.

    ``spec`` is required for ``inputs`` rows and refused for ``input_text`` rows (which carry
    their own instruction). With ``labeled=True`` every row must carry an answer.
    """
    rows = read_rows(path)
    if not rows:
        raise InvalidInputError(f"{path}: no examples (the file is empty)")
    rendered = ["input_text" in row for row in rows]
    if any(rendered) and not all(rendered):
        first = rendered.index(not rendered[0])
        raise InvalidInputError(f"{path} row {first}: mixes input_text rows with inputs rows")
    if rendered[0]:
        if spec is not None:
            raise InvalidInputError(
                f"{path}: rows carry rendered prompts (input_text) with their own instruction; "
                "do not pass a task spec"
            )
        spec, examples = _from_rendered(path, rows)
    else:
        if spec is None:
            raise InvalidInputError(f"{path}: rows with 'inputs' need a task spec (--task)")
        examples = [_from_inputs(path, i, row, spec) for i, row in enumerate(rows)]
    keys = [e.key for e in examples]
    if len(set(keys)) != len(keys):
        duplicate = next(k for k in keys if keys.count(k) > 1)
        raise InvalidInputError(f"{path}: duplicate example key {duplicate!r}")
    if labeled:
        missing = [e.key for e in examples if e.answer is None]
        if missing:
            raise InvalidInputError(f"{path}: example {missing[0]!r} has no answer")
    return spec, examples


def _row_key(row: Mapping[str, Any], index: int) -> str:
    key = row.get("key", row.get("id", index))
    return str(key)


def _answer(path: Path, key: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InvalidInputError(f"{path} example {key!r}: answer must be a string, number or null")


def _from_inputs(path: Path, index: int, row: Mapping[str, Any], spec: TaskSpec) -> Example:
    key = _row_key(row, index)
    unknown = set(row) - {"inputs", "answer", "key", "id"}
    if unknown:
        raise InvalidInputError(f"{path} example {key!r}: unknown keys {sorted(unknown)}")
    inputs = row.get("inputs")
    if not isinstance(inputs, Mapping):
        raise InvalidInputError(f"{path} example {key!r}: 'inputs' must be an object")
    try:
        example = Example(dict(inputs), _answer(path, key, row.get("answer")), key)
    except InvalidInputError as error:
        raise InvalidInputError(f"{path}: {error}") from None
    example.require_inputs(spec)
    return example


def _from_rendered(path: Path, rows: Sequence[Mapping[str, Any]]) -> tuple[TaskSpec, list[Example]]:
    instruction: str | None = None
    examples = []
    for index, row in enumerate(rows):
        key = _row_key(row, index)
        text = row.get("input_text")
        if not isinstance(text, str):
            raise InvalidInputError(f"{path} example {key!r}: input_text must be a string")
        prompt = parse_chat_prompt(text, item=f"{path} example {key!r}")
        if instruction is None:
            instruction = prompt.system
        elif prompt.system != instruction:
            raise InvalidInputError(
                f"{path} example {key!r}: its system turn differs from the first row's; "
                "one file holds one task"
            )
        answer = _answer(path, key, row.get("ground_truth", row.get("answer")))
        examples.append(Example({RENDERED_FIELD: prompt.user}, answer, key))
    return TaskSpec(instruction or "", (RENDERED_FIELD,)), examples
