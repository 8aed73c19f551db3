"""The pure parts of `dataeff connect`: the status control (label-config editing) and
parameter checks."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dataeff.errors import ConfigError, InvalidInputError
from dataeff.labelstudio.connect import validate_params
from dataeff.labelstudio.status import (
    StatusControl,
    add_status_control,
    find_status_control,
    first_text_object,
    status_control_xml,
)

PLUGIN = Path(__file__).resolve().parents[2] / "plugin"

CONFIG = """<View style="padding: 4px">
  <Header value="Is it positive?"/>
  <Text name="review" value="$review"/>
  <Text name="title" value="$title"/>
  <Choices name="sentiment" toName="review" choice="single">
    <Choice value="Positive"/><Choice value="Negative"/>
  </Choices>
</View>"""


def test_adds_the_control_bound_to_the_first_text_and_keeps_the_rest_verbatim() -> None:
    edited = add_status_control(CONFIG)
    root = ET.fromstring(edited)
    status = [e for e in root.iter("TextArea") if e.get("name") == "dataeff_status"]
    assert len(status) == 1 and status[0].get("toName") == "review"
    assert root[0] is status[0]  # first child of the root <View>: the first thing annotators see
    assert edited.replace("\n  " + status_control_xml("review"), "") == CONFIG


def test_adding_is_idempotent_and_respects_a_custom_status_control() -> None:
    once = add_status_control(CONFIG)
    assert add_status_control(once) == once
    custom = CONFIG.replace("</View>", '<TextArea name="dataeff_status_v2" toName="title"/></View>')
    assert add_status_control(custom) == custom
    assert find_status_control(custom) == StatusControl("dataeff_status_v2", "title")
    assert find_status_control(CONFIG) is None


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("<View><Text name='t' value='$t'/>", "not valid XML"),
        ("<View><Image name='i' value='$img'/></View>", "no <Text name=...> object"),
        ("<Panel><Text name='t' value='$t'/></Panel>", "root element must be <View>"),
    ],
)
def test_bad_configs_are_refused_with_a_reason(config: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        add_status_control(config)


@pytest.mark.parametrize(
    ("element", "message"),
    [
        ("<Choices name='dataeff_status' toName='t'/>",
         "'dataeff_status' must be a TextArea, not Choices"),
        ("<TextArea name='dataeff_status_2'/>", "the TextArea 'dataeff_status_2' has no toName"),
    ],
)
def test_a_misconfigured_status_control_is_a_config_error_when_connecting(
    element: str, message: str
) -> None:
    # behind a well-formed status control too: every dataeff_status* element is checked
    good = status_control_xml("t")
    config = f"<View><Text name='t' value='$t'/>{good}{element}</View>"
    with pytest.raises(ConfigError, match=re.escape(message)):
        add_status_control(config)  # what `dataeff connect` calls


def test_plugin_snippet_is_what_connect_inserts() -> None:
    snippet = (PLUGIN / "status-control.xml").read_text()
    body = re.sub(r"<!--.*?-->", "", snippet, flags=re.S).strip()
    assert body == status_control_xml("text")
    example = (PLUGIN / "example-config.xml").read_text()
    assert find_status_control(example) == StatusControl("dataeff_status", "text")
    assert first_text_object(example) == "text"


def test_params_are_checked_by_name_and_range() -> None:
    assert validate_params({"target": 1, "min_examples": 8, "model": "m"}) == {
        "target": 1.0, "min_examples": 8, "model": "m"
    }  # fmt: skip
    assert validate_params({"max_budget": 2000.0, "control": " sentiment "}) == {
        "max_budget": 2000, "control": "sentiment"}      # exactly as /setup will read them
    with pytest.raises(ConfigError, match=r"extra_params\.target must lie in \(0, 1\], got 1\.5"):
        validate_params({"target": 1.5})
    with pytest.raises(ConfigError, match=r"extra_params\.min_examples must be a number, got True"):
        validate_params({"min_examples": True})
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['targte'\]"):
        validate_params({"targte": 0.9})
