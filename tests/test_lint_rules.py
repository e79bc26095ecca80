"""Each lint rule fires on a config with the mistake and stays silent on a near-identical one."""

from __future__ import annotations

from pathlib import Path

import pytest

from sysmon_rules.errors import Diagnostic
from sysmon_rules.lint import RULES, VALIDATION_CODES, VALIDATION_FAMILY, lint_file
from sysmon_rules.lint.finding import Finding
from sysmon_rules.merging.lintmodules import lint_modules


def _config(body: str, version: str = "4.90", options: str = "") -> bytes:
    return f'<Sysmon schemaversion="{version}">{options}<EventFiltering>{body}</EventFiltering></Sysmon>'.encode()


def _or(*sets: str) -> str:
    return "".join(f'<RuleGroup name="" groupRelation="or">{s}</RuleGroup>' for s in sets)


def _and(body: str) -> str:
    return f'<RuleGroup name="" groupRelation="and">{body}</RuleGroup>'


PC_INC = '<ProcessCreate onmatch="include">{}</ProcessCreate>'
PC_EXC = '<ProcessCreate onmatch="exclude">{}</ProcessCreate>'

# code: (config where it fires, near-identical config where it does not)
CASES: dict[str, tuple[bytes, bytes]] = {
    "invalid-config": (
        _config(_or(PC_INC.format('<Image condition="ends with">x</Image>'))),
        _config(_or(PC_INC.format('<Image condition="end with">x</Image>')))),
    "semicolon-in-single-value": (
        _config(_or(PC_INC.format('<Image condition="end with">\\a.exe;\\b.exe</Image>'))),
        _config(_or(PC_INC.format('<Image condition="contains any">\\a.exe;\\b.exe</Image>')))),
    "single-token-list": (
        _config(_or(PC_INC.format('<CommandLine condition="contains all">-enc</CommandLine>'))),
        _config(_or(PC_INC.format('<CommandLine condition="contains all">-enc;-nop</CommandLine>')))),
    "and-repeated-field": (
        _config(_and(PC_INC.format('<Image condition="end with">\\a.exe</Image><Image condition="end with">'
                                   '\\b.exe</Image><User>SYSTEM</User>'))),
        _config(_and(PC_INC.format('<Rule groupRelation="or"><Image condition="end with">\\a.exe</Image>'
                                   '<Image condition="end with">\\b.exe</Image></Rule><User>SYSTEM</User>')))),
    "is-not-pair": (
        _config(_and(PC_INC.format('<User condition="is not">A</User><User condition="is not">B</User>'))),
        _config(_and(PC_INC.format('<User condition="excludes any">A;B</User>')))),
    "empty-list-item": (
        _config(_or(PC_INC.format('<CommandLine condition="contains any">-enc;-nop;</CommandLine>'))),
        _config(_or(PC_INC.format('<CommandLine condition="contains any">-enc;-nop</CommandLine>')))),
    "is-without-path": (
        _config(_or(PC_INC.format('<ParentImage condition="is">wsl.exe</ParentImage>'))),
        _config(_or(PC_INC.format('<ParentImage condition="image">wsl.exe</ParentImage>')))),
    "is-not-without-path": (
        _config(_or('<PipeEvent onmatch="include"><Rule groupRelation="and"><PipeName condition="begin with">\\PSHost'
                    '</PipeName><Image condition="is not">powershell.exe</Image></Rule></PipeEvent>')),
        _config(_or('<PipeEvent onmatch="include"><Rule groupRelation="and"><PipeName condition="begin with">\\PSHost'
                    '</PipeName><Image condition="not end with">\\powershell.exe</Image></Rule></PipeEvent>'))),
    "malformed-technique-name": (
        _config(_or(PC_INC.format('<Image name="technique_id=T,technique_name=" condition="image">makecab.exe'
                                  '</Image>'))),
        _config(_or(PC_INC.format('<Image name="technique_id=T1105,technique_name=Ingress Tool Transfer" '
                                  'condition="image">makecab.exe</Image>')))),
    "rule-name-captured": (
        _config(_or('<PipeEvent onmatch="include"><Rule groupRelation="and"><PipeName condition="begin with">\\'
                    '</PipeName><EventType>CreatePipe</EventType></Rule><PipeName name="technique_id=T1021.002" '
                    'condition="begin with">\\atsvc</PipeName></PipeEvent>')),
        _config(_or('<PipeEvent onmatch="include"><PipeName name="technique_id=T1021.002" condition="begin with">'
                    '\\atsvc</PipeName><Rule groupRelation="and"><PipeName condition="begin with">\\</PipeName>'
                    '<EventType>CreatePipe</EventType></Rule></PipeEvent>'))),
    "empty-exclude-beside-include": (
        _config(_or('<DriverLoad onmatch="exclude"/>', PC_INC.format('<Image condition="end with">\\cmd.exe</Image>'),
                    '<DriverLoad onmatch="include"><Hashes condition="contains">SHA256=0A1B</Hashes></DriverLoad>')),
        _config(_or(PC_INC.format('<Image condition="end with">\\cmd.exe</Image>'),
                    '<DriverLoad onmatch="include"><Hashes condition="contains">SHA256=0A1B</Hashes></DriverLoad>',
                    '<DriverLoad onmatch="exclude"/>'))),
    "schema-version-unreleased": (
        _config(_or(PC_INC.format('<Image condition="end with">\\cmd.exe</Image>')), "5.10"),
        _config(_or(PC_INC.format('<Image condition="end with">\\cmd.exe</Image>')), "4.90")),
    "module-schema-too-old": (
        _config(_or('<FileDeleteDetected onmatch="exclude"><TargetFilename condition="begin with">C:\\Windows\\'
                    'Prefetch\\</TargetFilename></FileDeleteDetected>'), "4.30"),
        _config(_or('<FileDeleteDetected onmatch="exclude"><TargetFilename condition="begin with">C:\\Windows\\'
                    'Prefetch\\</TargetFilename></FileDeleteDetected>'), "4.60")),
    "merged-differently": (
        _config(_and(PC_INC.format('<Image condition="end with">\\cmd.exe</Image><Image condition="end with">'
                                   '\\pwsh.exe</Image>'))),
        _config(_or(PC_INC.format('<Image condition="end with">\\cmd.exe</Image><Image condition="end with">'
                                  '\\pwsh.exe</Image>')))),
    "string-compare-number": (
        _config(_or('<NetworkConnect onmatch="include"><DestinationPort condition="less than">1024'
                    '</DestinationPort></NetworkConnect>')),
        _config(_or('<NetworkConnect onmatch="include"><DestinationPort condition="is">1024'
                    '</DestinationPort></NetworkConnect>'))),
    "environment-variable": (
        _config(_or(PC_INC.format('<Image condition="is">%SystemRoot%\\notepad.exe</Image>'))),
        _config(_or(PC_INC.format('<Image condition="is">C:\\Windows\\notepad.exe</Image>')))),
    "whitespace-in-value": (
        _config(_or(PC_INC.format('<Image condition="end with">\n  \\cmd.exe\n</Image>'))),
        _config(_or(PC_INC.format('<Image condition="end with">\\cmd.exe</Image>')))),
    "empty-value": (
        _config(_or(PC_INC.format('<CommandLine condition="is"></CommandLine>'))),
        _config(_or(PC_INC.format('<CommandLine condition="is">-</CommandLine>')))),
    "long-rule-name": (
        _config(_or(PC_INC.format(f'<Rule name="{"n" * 130}"><Image>x</Image></Rule>'))),
        _config(_or(PC_INC.format(f'<Rule name="{"n" * 127}"><Image>x</Image></Rule>')))),
    "bypassable-exclude": (
        _config(_or(PC_EXC.format('<Image condition="end with">\\updater.exe</Image>'))),
        _config(_or(PC_EXC.format('<Image condition="is">C:\\Program Files\\App\\updater.exe</Image>')))),
    "duplicate-filter": (
        _config(_or(PC_INC.format('<Image condition="end with">\\cmd.exe</Image>'
                                  '<Image condition="end with">\\CMD.exe</Image>'))),
        _config(_or(PC_INC.format('<Image condition="end with">\\cmd.exe</Image>'
                                  '<Image condition="end with">\\pwsh.exe</Image>')))),
    "shadowed-filter": (
        _config(_or(PC_INC.format('<Image name="any" condition="contains">powershell</Image>'
                                  '<Image name="ise" condition="end with">\\powershell_ise.exe</Image>'))),
        _config(_or(PC_INC.format('<Image name="ise" condition="end with">\\powershell_ise.exe</Image>'
                                  '<Image name="any" condition="contains">powershell</Image>')))),
    "cancelled-by-exclude": (
        _config(_or(PC_INC.format('<Image condition="end with">\\cmd.exe</Image>'),
                    PC_EXC.format('<Image condition="contains">\\system32\\</Image>'
                                  '<Image condition="end with">cmd.exe</Image>'))),
        _config(_or(PC_INC.format('<Image condition="end with">\\cmd.exe</Image>'),
                    PC_EXC.format('<Image condition="end with">\\conhost.exe</Image>')))),
    "matches-everything": (
        _config(_or(PC_INC.format('<User condition="is not">NT AUTHORITY\\SYSTEM</User>'))),
        _config(_or(PC_INC.format('<Rule groupRelation="and"><User condition="is not">NT AUTHORITY\\SYSTEM</User>'
                                  '<Image condition="end with">\\cmd.exe</Image></Rule>')))),
    "or-tautology": (
        _config(_or(PC_INC.format('<Rule groupRelation="or"><Image condition="begin with">C:\\</Image>'
                                  '<Image condition="not begin with">C:\\Windows\\</Image></Rule>'))),
        _config(_or(PC_INC.format('<Rule groupRelation="and"><Image condition="begin with">C:\\</Image>'
                                  '<Image condition="not begin with">C:\\Windows\\</Image></Rule>')))),
    "never-matches": (
        _config(_or(PC_INC.format('<Rule groupRelation="and"><Image condition="is">C:\\a.exe</Image>'
                                  '<Image condition="is">C:\\b.exe</Image></Rule>'))),
        _config(_or(PC_INC.format('<Rule groupRelation="or"><Image condition="is">C:\\a.exe</Image>'
                                  '<Image condition="is">C:\\b.exe</Image></Rule>')))),
    "excludes-list-inverted": (
        _config(_or('<ImageLoad onmatch="include"><Rule groupRelation="and"><Image condition="end with">'
                    '\\powershell.exe</Image><ImageLoaded condition="excludes all">\\clr.dll;\\mscoree.dll'
                    '</ImageLoaded></Rule></ImageLoad>')),
        _config(_or('<ImageLoad onmatch="include"><Rule groupRelation="and"><Image condition="end with">'
                    '\\powershell.exe</Image><ImageLoaded condition="excludes any">\\clr.dll;\\mscoree.dll'
                    '</ImageLoaded></Rule></ImageLoad>'))),
    "rule-name-never-surfaces": (
        _config(_or(PC_INC.format('<User name="not system" condition="is not">NT AUTHORITY\\SYSTEM</User>'
                                  '<Image name="shell" condition="end with">\\cmd.exe</Image>'))),
        _config(_or(PC_INC.format('<Image name="shell" condition="end with">\\cmd.exe</Image>'
                                  '<User name="not system" condition="is not">NT AUTHORITY\\SYSTEM</User>')))),
    "short-contains": (
        _config(_or(PC_INC.format('<CommandLine condition="contains any">ls;dir</CommandLine>'))),
        _config(_or(PC_INC.format('<Rule groupRelation="and"><Image condition="end with">\\cmd.exe</Image>'
                                  '<CommandLine condition="contains any">ls;dir</CommandLine></Rule>')))),
    "mixed-onmatch-group": (
        _config('<RuleGroup name="" groupRelation="or">'
                + PC_INC.format('<Image condition="end with">\\cmd.exe</Image>')
                + PC_EXC.format('<User condition="is">NT AUTHORITY\\SYSTEM</User>') + '</RuleGroup>', "4.22"),
        _config(_or(PC_INC.format('<Image condition="end with">\\cmd.exe</Image>'),
                    PC_EXC.format('<User condition="is">NT AUTHORITY\\SYSTEM</User>')), "4.22")),
    "blocks-system-path": (
        _config(_or('<FileBlockExecutable onmatch="include"><TargetFilename condition="contains">'
                    '\\AppData\\Local\\Temp\\</TargetFilename></FileBlockExecutable>')),
        _config(_or('<FileBlockExecutable onmatch="include"><TargetFilename condition="begin with">'
                    'C:\\Users\\Public\\</TargetFilename></FileBlockExecutable>'))),
    "bad-suppression": (
        _config(_or(PC_INC.format('<!-- sysmon-rules: ignore[semicolon-in-single-valeu] -->'
                                  '<Image condition="end with">\\a.exe;\\b.exe</Image>'))),
        _config(_or(PC_INC.format('<!-- sysmon-rules: ignore[semicolon-in-single-value] -->'
                                  '<Image condition="end with">\\a.exe;\\b.exe</Image>')))),
    "empty-include-set": (
        _config(_or('<DnsQuery onmatch="include"/>', '<DnsQuery onmatch="exclude"><QueryName condition="end with">'
                    '.local</QueryName></DnsQuery>')),
        _config(_or('<DnsQuery onmatch="exclude"><QueryName condition="end with">.local</QueryName></DnsQuery>'))),
    "needs-newer-sysmon": (
        _config(_or('<FileDeleteDetected onmatch="include"><TargetFilename>x</TargetFilename>'
                    '</FileDeleteDetected>')),
        _config(_or('<FileDelete onmatch="include"><TargetFilename>x</TargetFilename></FileDelete>'))),
}


def test_every_rule_has_a_case() -> None:
    assert sorted(CASES) == sorted(RULES)


MODULE_RULES = ("module-schema-too-old", "merged-differently")  # --modules: the config is a module of a tree
BUILD = _config(_or(PC_INC.format(""), '<RegistryEvent onmatch="include"/>', '<FileDeleteDetected onmatch="exclude"/>'))


def _lint(code: str, config: bytes, tmp_path: Path) -> list[Diagnostic]:
    target = "4.50" if code == "needs-newer-sysmon" else None  # FileDeleteDetected came with 4.60
    if code not in MODULE_RULES:
        return lint_file(config, target_sysmon=target)
    tree = tmp_path / "tree"
    (tree / "1_modules").mkdir(parents=True, exist_ok=True)
    (tree / "sysmonconfig.xml").write_bytes(BUILD)  # the committed build: its template writes 4.90
    (tree / "1_modules" / "module.xml").write_bytes(config)
    (result,) = lint_modules(tree).values()
    return result.findings


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_fires_and_stays_silent(code: str, tmp_path: Path) -> None:
    bad, good = CASES[code]
    codes = set(VALIDATION_CODES) if code == VALIDATION_FAMILY else {code}  # the validator's own codes
    fired = [d for d in _lint(code, bad, tmp_path) if d.code in codes]
    assert fired, f"{code} did not fire"
    assert fired[0].location.line >= 1 and fired[0].severity == RULES[code].severity
    assert [d for d in _lint(code, good, tmp_path) if d.code in codes] == []


def test_validator_findings_keep_their_code_and_the_family_selects_them() -> None:
    bad = CASES[VALIDATION_FAMILY][0]
    assert [d.code for d in lint_file(bad)] == ["unknown-condition"]
    assert [d.code for d in lint_file(bad, select=[VALIDATION_FAMILY])] == ["unknown-condition"]
    assert lint_file(bad, ignore=[VALIDATION_FAMILY]) == lint_file(bad, ignore=["unknown-condition"]) == []


def test_semantic_findings_are_what_the_evaluator_does() -> None:
    import sysmon_rules as sr

    wsl = r"C:\Windows\System32\wsl.exe"
    bare, fixed = (sr.Evaluator(sr.loads(xml)) for xml in CASES["is-without-path"])
    assert bare.decide(sr.Event(1, {"ParentImage": wsl})).decision == "exclude"
    assert fixed.decide(sr.Event(1, {"ParentImage": wsl})).decision == "include"

    cancelled = sr.Evaluator(sr.loads(CASES["cancelled-by-exclude"][0]))
    assert cancelled.decide(sr.Event(1, {"Image": r"C:\Windows\System32\cmd.exe"})).decision == "exclude"
    shadowed = sr.Evaluator(sr.loads(CASES["shadowed-filter"][0]))
    assert shadowed.decide(sr.Event(1, {"Image": r"C:\x\powershell_ise.exe"})).rule_name == "any"
    pair = sr.Evaluator(sr.loads(CASES["is-not-pair"][0]))
    assert {pair.decide(sr.Event(1, {"User": u})).decision for u in ("A", "B", "C")} == {"include"}


def test_a_trailing_semicolon_hides_every_later_rule_name() -> None:
    import sysmon_rules as sr

    config = _config(_or(PC_INC.format('<Image name="lolbins" condition="contains any">\\mshta.exe;\\regsvr32.exe;'
                                       '</Image><Image name="shell" condition="end with">\\cmd.exe</Image>')))
    assert sorted(d.code for d in lint_file(config)) == ["empty-list-item", "rule-name-never-surfaces"]
    decided = sr.Evaluator(sr.loads(config)).decide(sr.Event(1, {"Image": r"C:\Windows\System32\cmd.exe"}))
    assert decided.rule_name == "lolbins"


@pytest.mark.parametrize(("element", "event_type", "event_id", "field"), [
    ("RegistryEvent", "SetValue", 13, '<TargetObject name="technique_id=T1547.001" condition="contains">'
                                      '\\CurrentVersion\\Run\\</TargetObject>'),
    ("PipeEvent", "ConnectPipe", 18, '<PipeName name="technique_id=T1021.002" condition="begin with">\\atsvc'
                                     '</PipeName>'),
])
def test_a_capture_by_event_type_is_judged_on_the_series_member_that_carries_it(
        element: str, event_type: str, event_id: int, field: str) -> None:
    """One set serves a series of ids (12-14, 17-18); EventType tells them apart, so only the id whose
    events carry that EventType is captured, and the witness is one of them."""
    import sysmon_rules as sr

    narrow = '<TargetObject condition="contains">\\</TargetObject>' if element == "RegistryEvent" else \
        '<PipeName condition="begin with">\\</PipeName>'
    config = _config(_or(f'<{element} onmatch="include"><Rule groupRelation="and">{narrow}<EventType>{event_type}'
                         f'</EventType></Rule>{field}</{element}>'))
    (found,) = lint_file(config, select=["rule-name-captured"])
    assert f"every {event_type} event it logs" in found.message
    assert isinstance(found, Finding) and found.witness is not None
    witness = found.witness
    assert witness.event_id == event_id and witness.fields["EventType"] == event_type
    decided = sr.Evaluator(sr.loads(config)).decide(witness)
    assert decided.decision == "include" and decided.rule_name is None
