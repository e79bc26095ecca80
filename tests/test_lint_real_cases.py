"""Issue 27's defects, found where they are in the corpus configs, and every witness decided again.

Each expectation is derived from the configs' XML here (with lxml) or decided by the evaluator on
a config built independently of the linter, never copied from lint's own output.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

import sysmon_rules as sr
from sysmon_rules.cli import main
from sysmon_rules.lint import lint_document, lint_file
from sysmon_rules.lint.finding import Finding
from sysmon_rules.merging.lintmodules import lint_modules

BUILDS = ("sysmonconfig.xml", "sysmonconfig-with-filedelete.xml", "sysmonconfig-mde-augment.xml")
WITNESSED = ["rule-name-captured", "empty-exclude-beside-include", "shadowed-filter", "cancelled-by-exclude",
             "rule-name-never-surfaces", "matches-everything"]


def _corpus(shared: Path) -> list[Path]:
    configs = sorted((shared / "corpus" / "configs").rglob("*.xml"))
    builds = sorted((shared / "corpus" / "sysmon-modular-a9ff298").glob("sysmonconfig*.xml"))
    return configs + builds


def _tree(path: Path) -> etree._ElementTree:
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


@pytest.mark.parametrize("build", BUILDS)
def test_sysmon_modulars_pipe_rules_lose_their_names_to_the_first_rule(shared_dir: Path, build: str) -> None:
    path = shared_dir / "corpus" / "configs" / "sysmon-modular" / build
    (include,) = [e for e in _tree(path).iter() if _local(e) == "PipeEvent" and e.get("onmatch") == "include"]
    children = [c for c in include if isinstance(c.tag, str)]
    first = children[0]  # the nameless <Rule>: PipeName begin with "\" AND EventType CreatePipe
    assert _local(first) == "Rule" and not first.get("name")
    assert {(_local(c), c.text) for c in first} == {("PipeName", "\\"), ("EventType", "CreatePipe")}
    named = [c.sourceline for c in children[1:] if c.get("name") or any(g.get("name") for g in c)]
    found = [d for d in lint_file(path, select=["rule-name-captured"])]
    assert [d.location.line for d in found] == named and len(named) >= 12
    assert all(isinstance(d, Finding) and [r.line for r in d.related] == [first.sourceline] for d in found)
    assert all("every CreatePipe event it logs" in d.message for d in found)


def test_every_witness_is_what_the_evaluator_decides(shared_dir: Path) -> None:
    """Over the whole corpus: each witness is decided as claimed by an evaluator built from the file,
    and the claim is the defect: a captured item alone names the event; without the include sets the
    event is logged."""
    checked, codes = 0, set()
    for path in _corpus(shared_dir):
        findings = [d for d in lint_file(path, select=WITNESSED) if isinstance(d, Finding) and d.witness]
        if not findings:
            continue
        evaluator = sr.Evaluator(sr.load(path))
        tree = _tree(path)
        by_line = {e.sourceline: e for e in tree.iter() if isinstance(e.tag, str)}
        for d in findings:
            assert d.witness is not None and d.claim is not None
            decided = evaluator.decide(d.witness)
            assert (decided.decision, decided.rule_name) == d.claim
            element = by_line[d.location.line]
            if d.code == "empty-exclude-beside-include":
                _check_overridden(tree, element, d)
            else:
                _check_alone(element, d)
            checked += 1
            codes.add(d.code)
    assert checked >= 150 and codes == {"rule-name-captured", "empty-exclude-beside-include", "shadowed-filter"}


@pytest.mark.parametrize("code", WITNESSED)
def test_every_witnessed_rule_gives_a_witness_the_evaluator_confirms(code: str) -> None:
    """The rules the corpus does not trigger, on their documented examples (one element a line)."""
    from test_lint_rules import CASES

    config = etree.tostring(etree.fromstring(CASES[code][0]), pretty_print=True)
    found = [d for d in lint_file(config, select=[code]) if isinstance(d, Finding)]
    assert found
    for d in found:
        assert d.witness is not None and d.claim is not None
        decided = sr.Evaluator(sr.loads(config)).decide(d.witness)
        assert (decided.decision, decided.rule_name) == d.claim
        tree = etree.ElementTree(etree.fromstring(config))
        element = next(e for e in tree.iter() if e.sourceline == d.location.line and isinstance(e.tag, str))
        if code == "empty-exclude-beside-include":
            _check_overridden(tree, element, d)
        else:
            _check_alone(element, d)


def _alone(event: etree._Element, items: list[etree._Element]) -> bytes:
    """A config of one set: ``event``'s element holding copies of ``items``."""
    body = b"".join(etree.tostring(i, with_tail=False) for i in items)
    name = _local(event).encode()
    onmatch = (event.get("onmatch") or "include").encode()
    return (b'<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or"><' + name +
            b' onmatch="' + onmatch + b'">' + body + b"</" + name + b"></RuleGroup></EventFiltering></Sysmon>")


def _check_alone(element: etree._Element, d: Finding) -> None:
    """The reported filter (or <Rule>) alone in its set matches the witness; in the config something
    else decides it: an exclude (cancelled), another name (captured, never surfaces), this set."""
    assert d.witness is not None and d.claim is not None
    event = element.getparent()
    onmatch = event.get("onmatch")
    alone = sr.Evaluator(sr.loads(_alone(event, [element]))).decide(d.witness)
    if d.code != "matches-everything":
        assert alone.decision == onmatch
    if d.code in ("rule-name-captured", "rule-name-never-surfaces"):
        assert alone.rule_name and alone.rule_name != d.claim[1]
    if d.code == "cancelled-by-exclude":
        assert onmatch == "include" and d.claim[0] == "exclude"
    if d.code == "matches-everything":
        assert d.claim[0] == onmatch


def _check_overridden(tree: etree._ElementTree, element: etree._Element, d: Finding) -> None:
    assert d.witness is not None
    name = _local(element)
    for node in [e for e in tree.iter() if _local(e) == name and e.get("onmatch") == "include"]:
        node.getparent().remove(node)
    before = sr.Evaluator(sr.loads(etree.tostring(tree))).decide(d.witness)
    assert before.decision == "include"


def test_nextrons_driver_load_rules_turned_log_everything_into_hashes_only(shared_dir: Path) -> None:
    configs = shared_dir / "corpus" / "configs"
    path = configs / "nextron" / "sysmonconfig-export.xml"
    sets = [e for e in _tree(path).iter() if _local(e) == "DriverLoad"]
    empty = [e for e in sets if e.get("onmatch") == "exclude"]
    assert len(empty) == 1 and not [c for c in empty[0] if isinstance(c.tag, str)]
    includes = [e.sourceline for e in sets if e.get("onmatch") == "include"]
    found = lint_file(path, select=["empty-exclude-beside-include"])
    assert sorted(d.location.line for d in found) == sorted([empty[0].sourceline, *includes])
    # SwiftOnSecurity's "include, then an empty exclude" sections are a template's placeholder.
    assert lint_file(configs / "swiftonsecurity" / "sysmonconfig-export.xml",
                     select=["empty-exclude-beside-include"]) == []


@pytest.mark.parametrize("build", BUILDS)
def test_is_not_a_bare_file_name_keeps_powershells_own_pipes(shared_dir: Path, build: str) -> None:
    path = shared_dir / "corpus" / "configs" / "sysmon-modular" / build
    bare = [e.sourceline for e in _tree(path).iter()
            if _local(e) == "Image" and e.get("condition") == "is not" and re.fullmatch(r"[^\\]+\.exe", e.text or "")]
    found = lint_file(path, select=["is-not-without-path"])
    assert [d.location.line for d in found] == bare and len(bare) == 2
    # The rule meant "a PSHost pipe not made by PowerShell": PowerShell's own pipe is logged by it anyway.
    rule = _alone(etree.fromstring(b'<PipeEvent onmatch="include"/>'), [_tree(path).xpath(
        "//*[local-name()='PipeEvent']//*[local-name()='Image' and @condition='is not']/..")[0]])
    event = sr.Event(17, {"PipeName": r"\PSHost.133.1234.DefaultAppDomain.powershell", "EventType": "CreatePipe",
                          "Image": r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"})
    assert sr.Evaluator(sr.loads(rule)).decide(event).decision == "include"


def test_malformed_technique_names_are_those_off_the_convention(shared_dir: Path) -> None:
    path = shared_dir / "corpus" / "configs" / "sysmon-modular" / "sysmonconfig.xml"
    good = re.compile(r"technique_id=T\d{4}(\.\d{3})?,technique_name=[^,]+")
    uses = re.compile(r"(^|,)technique(_id)?=")  # names with an id key; a bare technique_name= is free text
    off = [e.sourceline for e in _tree(path).iter() if isinstance(e.tag, str)
           and uses.search(e.get("name") or "") and not good.fullmatch(e.get("name") or "")]
    found = lint_file(path, select=["malformed-technique-name"])
    assert [d.location.line for d in found] == off and len(off) == 6


def test_modules_are_judged_at_the_schema_their_build_writes(shared_dir: Path, tmp_path: Path) -> None:
    tree = shared_dir / "corpus" / "sysmon-modular-a9ff298"
    module = tree / "26_file_delete_detected" / "exclude_microsoft_prefetch.xml"
    alone = lint_file(module)
    assert [d.severity for d in alone if d.code == "unexpected-element"] == ["error"]  # Sysmon rejects it alone
    result = CliRunner().invoke(main, ["lint", "--modules", "--format", "json", str(tree)])
    report = {Path(r["path"]).relative_to(tree).as_posix(): r["findings"] for r in json.loads(result.stdout)}
    assert len(report) == len(list(tree.glob("[0-9]*/*.xml")))
    assert [(f["code"], f["severity"]) for f in report["26_file_delete_detected/exclude_microsoft_prefetch.xml"]] == \
        [("module-schema-too-old", "warning")]
    # Nothing the build accepts is an error; what it changes is said, with the merge's own reason.
    assert not [n for n, found in report.items() if any(f["severity"] == "error" for f in found)]
    assert result.exit_code == 0
    misplaced = tree / "11_file_create" / "include_cve_2021_40444.xml"  # <FileCreate> wraps its RuleGroup
    assert [d.code for d in lint_file(misplaced) if d.severity == "error"] == ["unexpected-element"]
    assert [(f["code"], f["location"]["line"]) for f in report["11_file_create/include_cve_2021_40444.xml"]] == \
        [("merged-differently", 2)]
    # The build takes that RuleGroup: linted as merged, its rules are checked (a planted defect is found).
    planted = misplaced.read_text("utf-8").replace("\\WINWORD.EXE", "WINWORD.EXE").replace('"end with"', '"is"')
    copy = tmp_path / "tree"
    (copy / "11_file_create").mkdir(parents=True)
    (copy / "sysmonconfig.xml").write_bytes((tree / "sysmonconfig.xml").read_bytes())
    (copy / "11_file_create" / "module.xml").write_text(planted, "utf-8")
    (found,) = lint_modules(copy).values()
    assert sorted(d.code for d in found.findings) == ["is-without-path", "merged-differently"]
    assert lint_document(module, build_schema="4.90", select=["invalid-config"]).findings == []


def test_messages_name_the_item_the_first_copy_and_values_as_written(shared_dir: Path, tmp_path: Path) -> None:
    build = shared_dir / "corpus" / "configs" / "sysmon-modular" / "sysmonconfig.xml"
    spaced = [d for d in lint_file(build, select=["whitespace-in-value"]) if "LOCAL SERVICE" in d.message]
    assert spaced and all("item ' LOCAL SERVICE'" in d.message for d in spaced)
    config = (b'<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or"><PipeEvent onmatch='
              b'"include">\n<PipeName condition="is">\\isapi_http</PipeName>\n<PipeName condition="is">\\ISAPI_HTTP'
              b'</PipeName></PipeEvent></RuleGroup></EventFiltering></Sysmon>')
    (dup,) = lint_file(config, select=["duplicate-filter"])
    assert "line 2" in dup.message and "\\ISAPI_HTTP" in dup.message and "\\\\" not in dup.message
    path = tmp_path / "config.xml"
    path.write_bytes(config)
    sarif = json.loads(CliRunner().invoke(main, ["lint", "--format", "sarif", str(path)]).stdout)["runs"][0]
    (result,) = sarif["results"]
    assert result["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 2
    rules = {r["id"]: r for r in sarif["tool"]["driver"]["rules"]}
    assert all(0 < float(r["properties"]["security-severity"]) <= 10 for r in rules.values())
    assert float(rules["cancelled-by-exclude"]["properties"]["security-severity"]) >= 7.0
    assert "C:\\\\Windows" in rules["is-not-without-path"]["help"]["markdown"]  # a Markdown backslash escapes


def test_a_schema_version_above_every_release_loads_silently() -> None:
    config = b'<Sysmon schemaversion="5.10"><EventFiltering/></Sysmon>'
    assert sr.load(config) is not None  # Sysmon (and the validator) take it as the newest schema
    (found,) = lint_file(config)
    assert found.code == "schema-version-unreleased" and "5.10" in found.message


def test_module_names_are_judged_as_the_build_carries_them(tmp_path: Path) -> None:
    """The build drops a module's RuleGroup name: too long alone (Sysmon rejects it), harmless merged;
    a filter's own name over the limit stays an error."""
    tree = tmp_path / "tree"
    (tree / "1_process_creation").mkdir(parents=True)
    (tree / "sysmonconfig.xml").write_text('<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation='
                                           '"or"><ProcessCreate onmatch="include"/></RuleGroup></EventFiltering>'
                                           "</Sysmon>", "utf-8")
    long = "technique_id=T1059,technique_name=" + "x" * 240

    def module(group: str, own: str) -> list[tuple[str, str]]:
        (tree / "1_process_creation" / "m.xml").write_text(
            f'<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup name="{group}" groupRelation="or">'
            f'<ProcessCreate onmatch="include"><Image name="{own}" condition="end with">\\cmd.exe</Image>'
            f"<Image condition=\"end with\">\\pwsh.exe</Image></ProcessCreate></RuleGroup></EventFiltering>"
            "</Sysmon>", "utf-8")
        alone = [(d.code, d.severity) for d in lint_file(tree / "1_process_creation" / "m.xml")]
        assert ("name-too-long", "error") in alone
        (result,) = lint_modules(tree).values()
        return [(d.code, d.severity) for d in result.findings]

    assert module(long, "shell") == [("merged-differently", "warning")]
    assert ("name-too-long", "error") in module("", long)


def test_a_module_tree_baseline_accepts_todays_findings(shared_dir: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A pre-commit hook on the tree: accept today's findings (merged-differently included), then
    --fail-on warning passes until a module changes."""
    monkeypatch.chdir(tmp_path)
    tree = str(shared_dir / "corpus" / "sysmon-modular-a9ff298")
    accepted = CliRunner().invoke(main, ["lint", "--modules", "--baseline", "b.json", "--update-baseline", tree])
    assert accepted.exit_code == 0
    again = CliRunner().invoke(main, ["lint", "--modules", "--baseline", "b.json", "--fail-on", "warning", tree])
    assert again.exit_code == 0 and again.stdout.startswith("0 findings in ")
