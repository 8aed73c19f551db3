"""Label config -> TaskSpec, annotation results -> answers, status paragraph handling."""

from __future__ import annotations

import pytest
from lsdata import XML

from dataeff.errors import ConfigError, InvalidInputError
from dataeff.labelstudio.mapping import answer_from_result, example_for_task, map_label_config
from dataeff.labelstudio.status import find_status_control, instruction_block, merge_instruction

TEXT = '<Text name="text" value="$text"/>'


def test_choices_config_with_status_control() -> None:
    m = map_label_config(XML)
    assert m.target.name == "label" and m.target.kind == "choices"
    assert m.spec.input_fields == ("text",)
    assert m.spec.answer_choices == ("yes", "no", "maybe")
    assert m.spec.instruction == "Is the answer to the question a yes or a no?"
    assert m.status is not None and (m.status.name, m.status.to_name) == ("dataeff_status", "text")


@pytest.mark.parametrize(("control", "kind", "needle"), [
    ('<TextArea name="a" toName="text"/>', "textarea", "Write the answer"),
    ('<Labels name="a" toName="text"><Label value="PER"/></Labels>', "labels", "PER"),
    ('<Rating name="a" toName="text" maxRating="10"/>', "rating", "1 to 10"),
    ('<Number name="a" toName="text" min="0" max="9"/>', "number", "between 0 and 9"),
    ('<Choices name="a" toName="text" choice="multiple"><Choice value="x"/>'
     '<Choice value="y"/></Choices>', "choices", "every label"),
])
def test_each_supported_control_kind(control: str, kind: str, needle: str) -> None:
    status = '<TextArea name="dataeff_status_2" toName="text"/>'
    m = map_label_config(f"<View>{status}{TEXT}{control}</View>")
    assert m.target.name == "a" and m.target.kind == kind
    assert needle in m.spec.instruction


def test_named_control_instruction_and_inputs_in_config_order() -> None:
    xml = ('<View><Text name="q" value="$question"/><Text name="p" value="$passage"/>'
           '<Choices name="first" toName="q"><Choice value="a"/></Choices>'
           '<TextArea name="second" toName="p"/></View>')
    m = map_label_config(xml, control="second", instruction="Answer briefly.")
    assert m.target.name == "second" and m.spec.instruction == "Answer briefly."
    assert m.spec.input_fields == ("question", "passage")
    assert m.spec_hash != map_label_config(xml).spec_hash


@pytest.mark.parametrize(("xml", "kw", "needle"), [
    ("<View>" + TEXT + "</View>", {}, "no control dataeff can learn from"),
    ('<View><Image name="i" value="$img"/><Choices name="c" toName="i"><Choice value="a"/>'
     "</Choices></View>", {}, "text tasks only"),
    (XML, {"control": "nope"}, "control 'nope' is not in the label config"),
    ("<View><Text", {}, "label config is not valid"),
    ("", {}, "no label config yet"),
    ('<View><Text name="t" value="fixed"/><TextArea name="a" toName="t"/></View>', {},
     "no text object bound to a task field"),
])
def test_unusable_configs_raise_config_errors(xml: str, kw: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        map_label_config(xml, **kw)
    assert needle in str(info.value)


def test_answers_from_results() -> None:
    m = map_label_config(XML)
    status = {"from_name": "dataeff_status", "value": {"text": ["ignore me"]}}
    choice = {"from_name": "label", "value": {"choices": ["no"]}}
    assert answer_from_result(m.target, [status, choice]) == "no"
    assert answer_from_result(m.target, [status]) is None
    assert answer_from_result(m.target, "garbage") is None
    multi = map_label_config('<View>' + TEXT + '<Choices name="c" toName="text" '
                             'choice="multiple"><Choice value="x"/><Choice value="y"/>'
                             '</Choices></View>').target
    assert answer_from_result(multi, [{"from_name": "c", "value": {"choices": ["y", "x"]}}]) \
        == "x, y"
    spans = map_label_config('<View>' + TEXT + '<Labels name="l" toName="text">'
                             '<Label value="PER"/></Labels></View>').target
    regions = [{"from_name": "l", "value": {"start": 9, "text": "Bo", "labels": ["PER"]}},
               {"from_name": "l", "value": {"start": 0, "text": "Ann", "labels": ["PER"]}}]
    assert answer_from_result(spans, regions) == "PER: Ann\nPER: Bo"
    rating = map_label_config('<View>' + TEXT + '<Rating name="r" toName="text"/></View>').target
    assert answer_from_result(rating, [{"from_name": "r", "value": {"rating": 4}}]) == "4"
    assert answer_from_result(rating, [{"from_name": "r", "value": {"rating": True}}]) is None


def test_examples_from_task_data() -> None:
    m = map_label_config(XML)
    example = example_for_task(m, 5, {"text": "hello", "other": 1}, "yes")
    assert dict(example.inputs) == {"text": "hello"} and example.key == "5"
    with pytest.raises(InvalidInputError, match="task 6: data has no field 'text'"):
        example_for_task(m, 6, {"body": "x"})


def test_status_control_found_only_by_prefix() -> None:
    assert find_status_control(XML) is not None
    assert find_status_control(XML.replace("dataeff_status", "notes")) is None
    with pytest.raises(InvalidInputError, match="label config is not valid XML"):
        find_status_control("<View")


def test_a_status_name_on_a_non_textarea_fails_the_mapping_with_its_name() -> None:
    bad = XML.replace("</View>", '<Choices name="dataeff_status_x" toName="text"/></View>')
    with pytest.raises(ConfigError, match="'dataeff_status_x' must be a TextArea, not Choices"):
        map_label_config(bad)


def test_merge_instruction_keeps_the_managers_text_and_is_idempotent() -> None:
    mine = "<p>Label the <i>answer</i>, not the question.</p>"
    once = merge_instruction(mine, instruction_block("collecting"))
    assert once.endswith(mine) and once.count("<b>dataeff:</b>") == 1
    twice = merge_instruction(once, instruction_block("target_reached"))
    assert twice.count("<b>dataeff:</b>") == 1 and "STOP labeling" in twice
    assert twice.endswith(mine)
    assert merge_instruction(twice, instruction_block("target_reached")) == twice
    assert merge_instruction(None, instruction_block("keep_labeling")).startswith("<p><b>")
