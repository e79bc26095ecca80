"""Hints on validation messages: the schema version an element needs, why a real field is
"incorrect", did-you-mean that never suggests the name itself, and short "expecting" lists."""

from __future__ import annotations

from pathlib import Path

import sysmon_rules as sr
from sysmon_rules import hints
from sysmon_rules.schema import all_versions, newest


def _only(xml: str, code: str) -> sr.Diagnostic:
    found = [d for d in sr.iter_errors(xml.encode()) if d.code == code]
    assert len(found) == 1, found
    return found[0]


def test_an_event_of_a_newer_schema_names_the_version_it_needs() -> None:
    d = _only('<Sysmon schemaversion="4.30"><EventFiltering><FileDeleteDetected onmatch="include">'
              '<TargetFilename condition="end with">.exe</TargetFilename></FileDeleteDetected>'
              "</EventFiltering></Sysmon>", "unexpected-element")
    # The oldest embedded schema that has the element, read from the schemas themselves.
    first = min((v for v in all_versions() if "FileDeleteDetected" in v.rule_elements), key=lambda v: v.packed)
    assert first.label == "4.60"
    assert d.hint == "<FileDeleteDetected> needs schemaversion 4.60 or newer (this config declares 4.30)"


def test_a_real_field_used_with_fields_of_another_event_says_so() -> None:
    d = _only('<Sysmon schemaversion="4.90"><EventFiltering><RegistryEvent onmatch="include">'
              '<Details condition="is">x</Details><NewName condition="is">y</NewName></RegistryEvent>'
              "</EventFiltering></Sysmon>", "incorrect-field")
    assert d.hint == "Details is a field of event 13 only, which has no NewName: split them into separate elements"


def test_a_misspelt_field_still_gets_the_closest_name() -> None:
    series = newest().rule_elements["ProcessCreate"]
    assert hints.incorrect_field("Imagee", ["Imagee"], series) == "did you mean <Image>?"
    assert hints.did_you_mean("Image", ["Image", "ImageLoaded"]) == "did you mean <ImageLoaded>?"
    assert hints.did_you_mean("processcreate", ["ProcessCreate"]) == "did you mean <ProcessCreate>?"


def test_long_expecting_lists_are_cut_around_the_closest_names() -> None:
    d = _only('<Sysmon schemaversion="4.90"><EventFiltering><ProcesCreate onmatch="include"/>'
              "</EventFiltering></Sysmon>", "unexpected-element")
    listed = d.message.split("expecting (")[1].split(")*")[0]
    assert listed.startswith("ProcessCreate | ") and listed.endswith("more")
    assert listed.count("|") == hints.MAX_LISTED and len(d.message) < 300  # it was 461 here, 1,274 in a RuleGroup
    assert hints.expecting(["A", "B"], "C") == "A | B"


def test_errors_from_the_fuzz_reproducers_are_one_line(shared_dir: Path) -> None:
    for name in ("config_double-hyphen-comment_multiline-error.xml", "config_unterminated-cdata_multiline-error.xml",
                 "config_newline-in-condition_multiline-error.xml"):
        found = list(sr.iter_errors(shared_dir / "fuzz" / name))
        assert found and all("\n" not in d.message for d in found), name
    condition = next(d for d in sr.iter_errors(shared_dir / "fuzz" / "config_newline-in-condition_multiline-error.xml")
                     if d.code == "unknown-condition")
    assert condition.message.startswith("Unknown condition: is\\nnot. ")
    assert hints.shown("a\tb\r\nc d") == "a\\tb\\r\\nc d"
