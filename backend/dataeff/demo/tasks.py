"""Demo tasks: a seeded pool of exactly labeled items, its task spec and its label config.

``make_task("boolean_expressions", n=160, seed=0)`` gives everything the demo needs to
create a Label Studio project (label config with the dataeff status control, tasks) and to
label it exactly (answers kept apart from the task data, so annotators never see them).
Tasks follow BIG-bench tasks the paper used (method §10); calibration work can draw several.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from dataeff.demo import generators
from dataeff.errors import InvalidInputError, NotFoundError
from dataeff.estimator.spec import Example, TaskSpec
from dataeff.labelstudio.status import add_status_control

TEXT_FIELD = "text"
ANSWER_CONTROL = "answer"


@dataclass(frozen=True)
class _Kind:
    title: str
    instruction: str
    choices: tuple[str, ...]
    generate: generators.Generator


KINDS: dict[str, _Kind] = {
    "boolean_expressions": _Kind(
        "Boolean expressions",
        "Evaluate the Boolean expression. Answer with True or False only.",
        ("True", "False"),
        generators.boolean_expression,
    ),
    "object_counting": _Kind(
        "Object counting",
        "Count the objects of the asked kind. Answer with a number only.",
        generators.COUNTING_ANSWERS,
        generators.object_counting,
    ),
    "web_of_lies": _Kind(
        "Web of lies",
        "Decide whether the last person tells the truth. Answer with Yes or No only.",
        ("Yes", "No"),
        generators.web_of_lies,
    ),
    "sports_understanding": _Kind(
        "Sports plausibility",
        "Decide whether the sentence about sports is plausible. Answer with Yes or No only.",
        ("Yes", "No"),
        generators.sports_plausibility,
    ),
}


@dataclass(frozen=True)
class DemoItem:
    """One task's text and its exact answer (one of the task's choices)."""

    text: str
    answer: str


@dataclass(frozen=True)
class DemoTask:
    """A demo project: ``items`` in a fixed order; ``label_config`` holds a ``Text`` named
    ``text``, ``Choices`` named ``answer`` and the dataeff status control."""

    name: str
    title: str
    seed: int
    spec: TaskSpec
    label_config: str
    items: tuple[DemoItem, ...]

    def ls_tasks(self) -> list[dict[str, str]]:
        """Task data to import into Label Studio (the text only, never the answer)."""
        return [{TEXT_FIELD: item.text} for item in self.items]

    def examples(self) -> list[Example]:
        """The items as labeled :class:`Example` objects keyed by position."""
        return [
            Example({TEXT_FIELD: item.text}, item.answer, key=str(i))
            for i, item in enumerate(self.items)
        ]

    def annotation(self, answer: str) -> list[dict[str, object]]:
        """The Label Studio annotation result choosing ``answer``."""
        if answer not in (self.spec.answer_choices or ()):
            raise InvalidInputError(f"{self.name}: {answer!r} is not one of the task's choices")
        return [{"from_name": ANSWER_CONTROL, "to_name": TEXT_FIELD, "type": "choices",
                 "value": {"choices": [answer]}}]  # fmt: skip


def label_config(kind: _Kind) -> str:
    """Text + single-choice Choices (+ the dataeff status control) for one task kind."""
    choices = "\n".join(f"    <Choice value={quoteattr(c)}/>" for c in kind.choices)
    base = (
        "<View>\n"
        f"  <Header value={quoteattr(kind.instruction)}/>\n"
        f'  <Text name="{TEXT_FIELD}" value="${TEXT_FIELD}"/>\n'
        f'  <Choices name="{ANSWER_CONTROL}" toName="{TEXT_FIELD}" choice="single" '
        'showInline="true">\n'
        f"{choices}\n"
        "  </Choices>\n"
        "</View>"
    )
    return add_status_control(base)


def make_task(name: str, n: int, seed: int = 0) -> DemoTask:
    """``n`` distinct items of task ``name`` (see :data:`KINDS`) drawn with ``seed``; answers
    are drawn uniformly from the choices, so binary tasks are balanced in expectation."""
    if name not in KINDS:
        raise NotFoundError(f"unknown demo task {name!r}; known: {sorted(KINDS)}")
    if not 1 <= n <= 5000:
        raise InvalidInputError(f"demo task size n={n} must be between 1 and 5000")
    kind = KINDS[name]
    rng = random.Random(f"{name}:{seed}")
    items: list[DemoItem] = []
    seen: set[str] = set()
    attempts = 0
    while len(items) < n:
        attempts += 1
        if attempts > 50 * n:
            raise InvalidInputError(f"{name}: cannot draw {n} distinct items (got {len(items)})")
        text, answer = kind.generate(rng, rng.choice(kind.choices))
        if text not in seen:
            seen.add(text)
            items.append(DemoItem(text, answer))
    spec = TaskSpec(kind.instruction, (TEXT_FIELD,), kind.choices)
    return DemoTask(name, kind.title, seed, spec, label_config(kind), tuple(items))
