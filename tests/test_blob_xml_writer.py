"""`to_xml`: real configs written back out read as the same config and compile to Sysmon's bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SHARED
from sysmon_rules import load, loads, to_blob
from sysmon_rules.model import Config, EventRules, Filter, Option, Rule, RuleGroup
from sysmon_rules.xml.writer import comment, to_xml

COMPILE_DIR = SHARED / "conformance" / "compile" if SHARED else None
CONFIGS = sorted(p.name for p in COMPILE_DIR.glob("*.xml")) if COMPILE_DIR else []


@pytest.mark.parametrize("name", CONFIGS)
def test_real_config_survives_to_xml(shared_dir: Path, name: str) -> None:
    xml = shared_dir / "conformance" / "compile" / name
    config = load(xml, sysmon_compatible=True)
    again = loads(to_xml(config), sysmon_compatible=True)
    assert again == config
    assert to_blob(again)[4:] == xml.with_name(name + ".bin").read_bytes()[4:]


def test_awkward_text_is_escaped_not_changed() -> None:
    value = ' <a & "b">\r\n\t]]> '
    config = Config(
        schema_version="4.90",
        options=(Option("HashAlgorithms", "md5,sha256"), Option("CheckRevocation", "")),
        filtering=(RuleGroup((EventRules("ProcessCreate", (
            Filter("Image", value, condition="contains", name='n"\t<'),
            Rule((Filter("User", "x&y"),), group_relation="and", name="r"),
        ), onmatch="include"),), group_relation="or", name="g & h"),),
    )
    text = to_xml(config)
    assert "&#13;" in text and "&lt;a &amp;" in text
    assert loads(text) == config


def test_notes_become_comments_that_cannot_break_out() -> None:
    text = to_xml(Config(schema_version="4.90"), notes=["a -- b -->", "second"])
    assert "<!-- a - - b - -> -->" in text and "<!-- second -->" in text
    assert loads(text) == Config(schema_version="4.90")
    assert comment("x-") == "<!-- x -->"


def test_characters_xml_cannot_hold_are_replaced_and_said() -> None:
    config = Config(schema_version="4.90", filtering=(EventRules("ProcessCreate", (Filter("Image", "a\x01b"),),
                                                                 onmatch="include"),))
    text = to_xml(config)
    assert "a\ufffdb" in text and "replaced by U+FFFD" in text
