"""Prompts (method §3, §5): chat rendering, the answer boundary, the demo files' format."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dataeff.errors import InvalidInputError, NotFoundError
from dataeff.estimator.chatformat import parse_chat_prompt
from dataeff.estimator.engine import TorchScorer
from dataeff.estimator.examples_io import load_examples, read_task
from dataeff.estimator.prompts import encode_labeled, render_prompt, system_turn, user_turn
from dataeff.estimator.spec import Example, TaskSpec

LLAMA = ("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge "
         "Date: December 2023\nToday Date: 26 Jul 2024\n\nClassify it.<|eot_id|>"
         "<|start_header_id|>user<|end_header_id|>\n\nCONTEXT - hi<|eot_id|>"
         "<|start_header_id|>assistant<|end_header_id|>\n\n")


def test_parses_llama3_and_chatml_prompts() -> None:
    prompt = parse_chat_prompt(LLAMA)
    assert (prompt.system, prompt.user) == ("Classify it.", "CONTEXT - hi")
    chatml = "<|im_start|>user\nhello\nthere<|im_end|>\n<|im_start|>assistant\n"
    assert parse_chat_prompt(chatml).user == "hello\nthere"
    assert parse_chat_prompt(chatml).system == ""
    with pytest.raises(InvalidInputError, match=r"row 3.*not a rendered"):
        parse_chat_prompt("plain text", item="row 3")
    with pytest.raises(InvalidInputError, match="empty assistant turn"):
        parse_chat_prompt(LLAMA + "1<|eot_id|>", item="row 4")


def test_renders_with_the_models_template(make_scorer: Callable[..., TorchScorer]) -> None:
    tokenizer = make_scorer().loaded.tokenizer
    spec = TaskSpec("Judge.", ("premise", "claim"), ("yes", "no"))
    example = Example({"premise": "A cat.", "claim": "An animal."})
    assert system_turn(spec) == "Judge.\n\nAnswer with exactly one of: yes, no."
    assert user_turn(spec, example) == "premise: A cat.\n\nclaim: An animal."
    text = render_prompt(tokenizer, spec, example)
    assert text == ("<|im_start|>system\nJudge.\n\nAnswer with exactly one of: yes, no.<|im_end|>"
                    "\n<|im_start|>user\npremise: A cat.\n\nclaim: An animal.<|im_end|>\n"
                    "<|im_start|>assistant\n")


def test_the_loss_covers_exactly_the_answer_tokens(
    make_scorer: Callable[..., TorchScorer], spec: TaskSpec
) -> None:
    scorer = make_scorer()
    tokenizer = scorer.loaded.tokenizer
    example = Example({"review": "great movie"}, "positive", key="a")
    encoded = encode_labeled(tokenizer, spec, example, max_length=160)
    answer = tokenizer("positive", add_special_tokens=False)["input_ids"]
    assert list(encoded.ids[encoded.n_prompt:]) == answer  # no end-of-turn token appended
    joint = tokenizer(render_prompt(tokenizer, spec, example) + "positive",
                      add_special_tokens=False)["input_ids"]
    assert list(encoded.ids) == joint  # here the boundary does not merge tokens


def test_labeled_errors_name_the_example(
    make_scorer: Callable[..., TorchScorer], spec: TaskSpec
) -> None:
    tokenizer = make_scorer().loaded.tokenizer
    special = {tokenizer.eos_token_id}
    for answer, message in ((None, "no answer"), ("  ", "empty"),
                            ("<|im_end|>", "only special tokens"),
                            ("positive " * 200, "exceed the model's context of 160")):
        example = Example({"review": "ok"}, answer, key="bad-one")
        with pytest.raises(InvalidInputError, match=f"'bad-one'.*{message}"):
            encode_labeled(tokenizer, spec, example, max_length=160, unscored=special)


def test_reads_the_demo_files(reference_dir: Path) -> None:
    spec, examples = load_examples(
        reference_dir / "coslow_data" / "low_conf_examples_annotated.json", labeled=True)
    assert len(examples) == 32 and spec.input_fields == ("input",)
    assert spec.instruction.startswith("You are a helpful assistant evaluating")
    assert "Cutting Knowledge" not in spec.instruction
    assert examples[0].inputs["input"].startswith("CONTEXT - ")
    assert examples[0].key == "0" and examples[0].answer == "1"
    assert sorted({e.answer for e in examples}) == ["0", "1", "4"]


def test_reads_inputs_rows_with_a_task(tmp_path: Path) -> None:
    task = tmp_path / "task.json"
    task.write_text(json.dumps({"instruction": "Say it.", "input_fields": ["text"],
                                "answer_choices": ["a", "b"]}))
    pool = tmp_path / "pool.jsonl"
    pool.write_text('{"inputs": {"text": "x"}, "answer": "a", "key": "t1"}\n\n'
                    '{"inputs": {"text": "y"}, "answer": null}\n')
    spec, examples = load_examples(pool, read_task(task))
    assert spec.answer_choices == ("a", "b")
    assert [(e.key, e.answer) for e in examples] == [("t1", "a"), ("1", None)]
    with pytest.raises(InvalidInputError, match="'1' has no answer"):
        load_examples(pool, spec, labeled=True)
    with pytest.raises(InvalidInputError, match="need a task spec"):
        load_examples(pool)


@pytest.mark.parametrize(("content", "message"), [
    ("", "empty"),
    ("{bad json\n", "pool.jsonl line 1 is not valid JSON"),
    ('{"inputs": {"text": NaN}}\n', "line 1 is not valid JSON: NaN is not a number JSON allows"),
    ('{"inputs": {"other": "x"}}\n', "missing input field"),
    ('{"inputs": {"text": "x"}, "extra": 1}\n', "unknown keys"),
    ('{"inputs": {"text": "x"}, "key": "a"}\n{"inputs": {"text": "y"}, "key": "a"}\n',
     "duplicate example key 'a'"),
    ('{"inputs": {"text": "x"}}\n{"input_text": "y"}\n', "mixes input_text"),
])
def test_bad_files_are_clear_errors(tmp_path: Path, content: str, message: str) -> None:
    pool = tmp_path / "pool.jsonl"
    pool.write_text(content)
    with pytest.raises(InvalidInputError, match=message):
        load_examples(pool, TaskSpec("", ("text",)))


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"examples file not found: .*missing\.jsonl"):
        load_examples(tmp_path / "missing.jsonl", TaskSpec("", ("text",)))
