"""Demo task generators: deterministic per seed, and every label re-derived independently."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from label_studio_sdk.label_interface import LabelInterface

from dataeff.demo.generators import (
    COUNTING_CATEGORIES,
    NUMBER_WORDS,
    SPORT_ACTIONS,
    SPORT_ATHLETES,
    plural,
)
from dataeff.demo.tasks import KINDS, DemoTask, make_task
from dataeff.errors import InvalidInputError, NotFoundError

N = 300


@pytest.fixture(scope="module", params=sorted(KINDS))
def task(request: pytest.FixtureRequest) -> DemoTask:
    return make_task(request.param, N, seed=7)


def test_same_seed_same_items_other_seed_other_items(task: DemoTask) -> None:
    assert make_task(task.name, N, seed=7) == task
    other = make_task(task.name, N, seed=8)
    assert len(set(other.items) & set(task.items)) < N // 2
    assert make_task(task.name, 20, seed=7).items == task.items[:20]


def test_items_are_distinct_and_answers_cover_the_choices(task: DemoTask) -> None:
    assert len({item.text for item in task.items}) == N
    counts = Counter(item.answer for item in task.items)
    choices = task.spec.answer_choices or ()
    assert set(counts) == set(choices)
    assert min(counts.values()) >= 0.5 * N / len(choices)  # no answer is rare


def test_label_config_and_annotation_fit_together(task: DemoTask) -> None:
    interface = LabelInterface(task.label_config)
    assert {c.name for c in interface.controls} == {"answer", "dataeff_status"}
    assert interface.get_control("answer").labels == list(task.spec.answer_choices or ())
    answer = task.items[0].answer
    assert interface.validate_prediction({"result": task.annotation(answer)})
    with pytest.raises(InvalidInputError, match="'maybe' is not one of"):
        task.annotation("maybe")
    assert task.ls_tasks()[0] == {"text": task.items[0].text}  # never the answer
    assert task.spec.input_fields == ("text",)
    assert [e.answer for e in task.examples()] == [i.answer for i in task.items]


def test_boolean_expressions_evaluate_to_their_label() -> None:
    for item in make_task("boolean_expressions", N, seed=1).items:
        expression = item.text.removesuffix(" is")
        assert set(expression.split()) <= {"True", "False", "not", "and", "or", "(", ")"}
        assert str(eval(expression, {"__builtins__": {}})) == item.answer, item.text


def _count(text: str) -> str:
    match = re.fullmatch(r"I have (.+)\. How many (.+) do I have\?", text)
    assert match, text
    listing, category = match.groups()
    total = 0
    for phrase in re.split(r", and |, | and ", listing):
        word, noun = phrase.split(" ", 1)
        k = 1 if word in ("a", "an") else NUMBER_WORDS.index(word)
        if any(noun in (n, plural(n)) for n in COUNTING_CATEGORIES[category]):
            total += k
    return str(total)


def test_object_counting_counts_only_the_asked_category() -> None:
    assert _count("I have a flute, two pianos, and a goat. How many musical instruments do I "
                  "have?") == "3"  # fmt: skip
    for item in make_task("object_counting", N, seed=1).items:
        assert _count(item.text) == item.answer, item.text


def _solve_web_of_lies(text: str) -> str:
    *sentences, question = re.split(r"(?<=\.) ", text)
    first = re.fullmatch(r"(\w+) (lies|tells the truth)\.", sentences[0])
    assert first, text
    truthful = {first[1]: first[2] == "tells the truth"}
    for sentence in sentences[1:]:
        said = re.fullmatch(r"(\w+) says (\w+) (lies|tells the truth)\.", sentence)
        assert said, sentence
        truthful[said[1]] = truthful[said[2]] == (said[3] == "tells the truth")
    asked = re.fullmatch(r"Does (\w+) tell the truth\?", question)
    assert asked, question
    return "Yes" if truthful[asked[1]] else "No"


def test_web_of_lies_answers_follow_the_chain() -> None:
    assert _solve_web_of_lies("Ka lies. Leda says Ka lies. Does Leda tell the truth?") == "Yes"
    for item in make_task("web_of_lies", N, seed=1).items:
        assert _solve_web_of_lies(item.text) == item.answer, item.text


def test_sports_sentences_are_plausible_iff_the_sports_match() -> None:
    athletes = {a: s for s, names in SPORT_ATHLETES.items() for a in names}
    actions = {a: s for s, acts in SPORT_ACTIONS.items() for a in acts}
    assert athletes["Tom Brady"] == actions["threw a touchdown pass"] == "american football"
    for item in make_task("sports_understanding", N, seed=1).items:
        sentence = item.text.split('"')[1]
        athlete = next(a for a in athletes if sentence.startswith(a + " "))
        action = next(a for a in actions if sentence[len(athlete) + 1 :].startswith(a))
        assert ("Yes" if athletes[athlete] == actions[action] else "No") == item.answer


def test_unknown_tasks_and_sizes_are_refused() -> None:
    with pytest.raises(NotFoundError, match="unknown demo task 'nope'"):
        make_task("nope", 10)
    with pytest.raises(InvalidInputError, match="n=0"):
        make_task("web_of_lies", 0)
