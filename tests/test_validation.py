"""The validator against Sysmon's verdicts: real configs (EXPECTED.tsv) and rejected configs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import sysmon_rules as sr
from conftest import SHARED
from sysmon_rules.validation import iter_errors


def _expected() -> list[tuple[str, str, str]]:
    if SHARED is None:
        return []
    rows = (SHARED / "corpus" / "configs" / "EXPECTED.tsv").read_text("utf-8").splitlines()[1:]
    return [tuple([*row.split("\t"), "", ""][:3]) for row in rows]  # type: ignore[misc]


def _invalid_cases() -> list[dict[str, str]]:
    if SHARED is None:
        return []
    lines = (SHARED / "conformance" / "invalid" / "cases.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.mark.parametrize(("rel", "verdict", "reason"), _expected(), ids=[r[0] for r in _expected()])
def test_real_config_gets_sysmons_verdict(shared_dir: Path, rel: str, verdict: str, reason: str) -> None:
    errors = [d for d in iter_errors(shared_dir / "corpus" / "configs" / rel) if d.severity == "error"]
    if verdict == "valid":
        assert errors == []
    else:
        assert errors, "Sysmon rejects this file"
        # Same complaint as Sysmon's: the element whose content breaks the DTD, and the one it got.
        owner = re.match(r"Element (\w+) content", reason)
        assert owner and f"Element {owner.group(1)} content does not follow the DTD" in errors[0].message


@pytest.mark.parametrize("case", _invalid_cases(), ids=[c["id"] for c in _invalid_cases()])
def test_rejected_with_sysmons_message(case: dict[str, str]) -> None:
    with pytest.raises(sr.ConfigValidationError) as caught:
        sr.loads(case["config_xml"])
    # Sysmon prefixes its own errors with "Error: " and breaks the condition list onto a new line.
    pattern = case["expected_error_regex"].removeprefix("Error: ").replace("\n", r"\.? ")
    assert any(re.search(pattern, d.message) for d in caught.value.diagnostics), pattern


def _config(body: str, version: str = "4.90") -> bytes:
    return f'<Sysmon schemaversion="{version}"><EventFiltering>{body}</EventFiltering></Sysmon>'.encode()


def _codes(data: bytes, **options: object) -> list[tuple[str, str]]:
    return [(d.code, d.severity) for d in iter_errors(data, **options)]  # type: ignore[arg-type]


def test_condition_typo_gets_a_hint() -> None:
    found = list(iter_errors(_config('<ProcessCreate onmatch="include"><Image condition="begins with">x'
                                     "</Image></ProcessCreate>")))
    assert [d.code for d in found] == ["unknown-condition"]
    assert found[0].hint == "did you mean 'begin with'?"
    assert (found[0].location.line, found[0].location.column) == (1, 79)


def test_incorrect_field_is_an_error_by_default_and_a_warning_when_sysmon_compatible() -> None:
    # Details (id 13) and NewName (id 14) in one RegistryEvent: no single event has both. Sysmon names
    # the field that broke the last id it tried (14), as we do.
    data = _config('<RegistryEvent onmatch="include"><Details>a</Details><NewName>b</NewName></RegistryEvent>'
                   '<RegistryEvent onmatch="include"><TargetObject>c</TargetObject></RegistryEvent>')
    assert _codes(data) == [("incorrect-field", "error"), ("dropped-element", "error")]
    assert _codes(data, sysmon_compatible=True) == [("incorrect-field", "warning"), ("dropped-element", "warning")]
    sr.loads(data, sysmon_compatible=True)
    with pytest.raises(sr.ConfigValidationError, match="Incorrect field Details"):
        sr.loads(data)


def test_field_allowed_by_old_dtd_in_rule_but_checked_by_newest_table() -> None:
    # The 4.30 DTD lets <Rule> hold any field of any event; the code then uses the newest tables,
    # where FileCreate has User (sysmon-modular's exclude_psscriptpolicytest.xml relies on this).
    ok = _config('<FileCreate onmatch="exclude"><Rule groupRelation="and"><User>x</User></Rule></FileCreate>', "4.30")
    assert _codes(ok) == []
    outside = _config('<FileCreate onmatch="exclude"><User>x</User></FileCreate>', "4.30")
    assert _codes(outside) == [("unexpected-element", "error")]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('<RuleGroup name="x"><ProcessCreate onmatch="include"/></RuleGroup>', "missing-attribute"),
        ('<RuleGroup groupRelation="AND"><ProcessCreate onmatch="include"/></RuleGroup>', "attribute-value"),
        ("<ProcessCreate><Image>x</Image></ProcessCreate>", "missing-onmatch"),
        ('<ProcessCreate onmatch="include" default="include"/>', "onmatch-and-default"),
        ('<ProcessCreate onmatch="include"><Image cond="is">x</Image></ProcessCreate>', "unknown-attribute"),
        ('<ProcessCreate onmatch="include">text</ProcessCreate>', "unexpected-text"),
        ('<ProcessCreate onmatch="include"><rule><Image>x</Image></rule></ProcessCreate>', "unexpected-element"),
    ],
)
def test_each_structural_rule(body: str, code: str) -> None:
    assert code in [c for c, _ in _codes(_config(body))]


def test_options_follow_the_declared_version() -> None:
    assert _codes(b'<Sysmon schemaversion="4.90"><CheckRevocation/><DnsLookup>False</DnsLookup></Sysmon>') == []
    assert _codes(b'<Sysmon schemaversion="4.22"><DnsLookup>False</DnsLookup></Sysmon>') == [
        ("unexpected-element", "error")]
    assert _codes(b'<Sysmon schemaversion="4.90"><CaptureClipboard>yes</CaptureClipboard></Sysmon>') == [
        ("unexpected-content", "error")]


@pytest.mark.parametrize(("version", "ok"), [("4.90", True), ("4.91", True), ("4.0", True), ("3.4", False),
                                             ("four", False), ("", False)])
def test_schema_versions(version: str, ok: bool) -> None:
    errors = [c for c, s in _codes(_config("", version)) if s == "error"]
    assert (errors == []) == ok


@pytest.mark.parametrize(
    ("element", "ok"),
    [
        ("<HashAlgorithms>md5,sha256,IMPHASH</HashAlgorithms>", True),
        ("<HashAlgorithms>*</HashAlgorithms>", True),
        ("<HashAlgorithms>SHA-1,md-5</HashAlgorithms>", True),
        ("<HashAlgorithms>md5, sha256</HashAlgorithms>", False),  # Sysmon does not trim items
        ("<HashAlgorithms>sha512</HashAlgorithms>", False),
        ("<ArchiveDirectory>Sysmon</ArchiveDirectory>", True),
        ("<ArchiveDirectory>C:\\Sysmon</ArchiveDirectory>", False),
        ("<FieldSizes>CommandLine:100,Image:20</FieldSizes>", True),
        ("<FieldSizes>commandline:100</FieldSizes>", False),
        ("<FieldSizes>CommandLine:0</FieldSizes>", False),
        ("<FieldSizes>CommandLine: 100</FieldSizes>", False),
    ],
)
def test_option_values_as_sysmon_validates_them(element: str, ok: bool) -> None:
    codes = _codes(f'<Sysmon schemaversion="4.90">{element}</Sysmon>'.encode())
    assert (codes == []) == ok, codes


def test_without_dtd_structural_findings_are_warnings() -> None:
    data = _config('<ProcessCreate onmatch="include" extra="1"><Image>x</Image></ProcessCreate><Bogus/>')
    assert sorted(_codes(data)) == [("unexpected-element", "error"), ("unknown-attribute", "error")]
    assert sorted(_codes(data, dtd=False)) == [("unexpected-element", "warning"), ("unknown-attribute", "warning")]
    sr.loads(data, dtd=False)


def test_linux_platform_knows_ebpf_but_not_windows_only_events() -> None:
    ebpf = _config('<eBPFEvent onmatch="include"><Image>x</Image></eBPFEvent>')
    block = _config('<FileBlockExecutable onmatch="include"><Image>x</Image></FileBlockExecutable>')
    assert _codes(ebpf, platform="linux") == [] and _codes(block) == []
    assert ("unexpected-element", "error") in _codes(ebpf)
    assert ("unexpected-element", "error") in _codes(block, platform="linux")
