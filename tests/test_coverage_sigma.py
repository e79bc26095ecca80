"""Coverage of small Sigma rules against small configs, each status reached for a stated reason.

Every witness is replayed here too: the evaluator must give the witness's decision and RuleName,
and the event must satisfy the rule according to the independent Sigma check.
"""

from __future__ import annotations

import textwrap

import pytest
from sigma.collection import SigmaCollection
from sigma.rule import SigmaRule

import sysmon_rules as sr
from sysmon_rules.readiness import RuleCoverage, coverage
from sysmon_rules.readiness.sigmacheck import sigma_matches

WGET = """
title: Wget download
id: 11111111-1111-4111-8111-111111111111
author: Test Author
tags: [attack.t1105, attack.command-and-control]
logsource: {product: windows, category: process_creation}
detection:
    selection:
        Image|endswith: '\\wget.exe'
        CommandLine|contains: 'http'
    filter:
        ParentImage: 'C:\\Tools\\updater.exe'
    condition: selection and not filter
"""


def _config(body: str) -> sr.Config:
    return sr.loads(f'<Sysmon schemaversion="4.90"><EventFiltering>{textwrap.dedent(body)}</EventFiltering></Sysmon>')


def _rule(text: str) -> SigmaCollection:
    return SigmaCollection.from_yaml(textwrap.dedent(text))


def _only(config: sr.Config, text: str) -> RuleCoverage:
    report = coverage(config, [_rule(text)])
    assert len(report.rules) == 1
    rule = report.rules[0]
    collection = _rule(text)
    sigma_rule = collection.rules[0]
    assert isinstance(sigma_rule, SigmaRule)
    trees = [c.parsed for c in sigma_rule.detection.parsed_condition]
    evaluator = sr.Evaluator(config)
    for w in rule.witnesses:
        decision = evaluator.decide(sr.Event(w.event_id, w.fields))
        assert (decision.decision, decision.rule_name) == (w.decision, w.rule_name)
        assert any(sigma_matches(t, w.event_id, w.fields) for t in trees)
    return rule


INCLUDE_WGET = """
<RuleGroup groupRelation="or"><ProcessCreate onmatch="include">
  <Image name="technique_id=T1105" condition="end with">\\wget.exe</Image>
</ProcessCreate></RuleGroup>"""


def test_an_include_covering_the_selection_and_no_exclude_is_logged() -> None:
    rule = _only(_config(INCLUDE_WGET), WGET)
    assert rule.status == "logged"
    assert [w.decision for w in rule.witnesses] == ["include"]
    assert rule.witnesses[0].rule_name == "technique_id=T1105"


def test_an_exclude_on_another_field_makes_it_partial_with_the_exclude_named() -> None:
    config = _config(INCLUDE_WGET + """
<RuleGroup groupRelation="or"><ProcessCreate onmatch="exclude">
  <ParentImage condition="is">C:\\Windows\\explorer.exe</ParentImage>
</ProcessCreate></RuleGroup>""")
    rule = _only(config, WGET)
    assert rule.status == "partial"
    dropped = [w for w in rule.witnesses if w.decision == "exclude"]
    assert dropped and dropped[0].fields["ParentImage"] == "c:\\windows\\explorer.exe"
    assert "<config>:6:3" in dropped[0].why  # the exclude filter's line


def test_an_exclude_the_rule_itself_filters_out_changes_nothing() -> None:
    config = _config(INCLUDE_WGET + """
<RuleGroup groupRelation="or"><ProcessCreate onmatch="exclude">
  <ParentImage condition="is">C:\\Tools\\updater.exe</ParentImage>
</ProcessCreate></RuleGroup>""")
    assert _only(config, WGET).status == "logged"  # the rule's own filter already excludes that parent


def test_an_include_on_something_else_leaves_it_partial_and_event_type_off_drops_it() -> None:
    other = _config("""<RuleGroup groupRelation="or"><ProcessCreate onmatch="include">
      <ParentImage condition="end with">\\cmd.exe</ParentImage></ProcessCreate></RuleGroup>""")
    rule = _only(other, WGET)
    # Logged only when started by cmd.exe: of its typical events (parents Explorer, cmd, PowerShell)
    # only one is logged, so the rule is dropped in practice, and the reason names the include.
    assert (rule.status, rule.grade, rule.typical) == ("dropped-in-practice", "logged-only-when", (3, 1))
    assert any(r.startswith("logged only when an include matches, such as include ParentImage end with")
               and "<config>:2:7" in r for r in rule.reasons), rule.reasons
    shells = _config("""<RuleGroup groupRelation="or"><ProcessCreate onmatch="include">
      <ParentImage condition="end with">\\cmd.exe</ParentImage>
      <ParentImage condition="end with">\\powershell.exe</ParentImage></ProcessCreate></RuleGroup>""")
    assert (_only(shells, WGET).status, _only(shells, WGET).typical) == ("partial", (3, 2))
    curl = _config("""<RuleGroup groupRelation="or"><ProcessCreate onmatch="include">
      <Image condition="end with">\\curl.exe</Image></ProcessCreate></RuleGroup>""")
    assert _only(curl, WGET).status == "dropped"  # no wget.exe ends with curl.exe
    off = _config("""<RuleGroup groupRelation="or"><ProcessCreate onmatch="include">
      <Image condition="is">C:\\only\\this.exe</Image></ProcessCreate></RuleGroup>""")
    assert _only(off, WGET).status == "dropped"
    nothing = _config("""<RuleGroup groupRelation="or"><NetworkConnect onmatch="include">
      <Image condition="end with">\\x.exe</Image></NetworkConnect></RuleGroup>""")
    assert _only(nothing, WGET).status == "logged"  # no ProcessCreate rules: Sysmon logs every process


def test_a_dropped_event_type_is_dropped_by_construction() -> None:
    dns = """
    title: DNS
    id: 22222222-2222-4222-8222-222222222222
    logsource: {product: windows, category: dns_query}
    detection:
        selection: {QueryName|endswith: '.evil.example'}
        condition: selection
    """
    rule = _only(_config(INCLUDE_WGET), dns)
    assert rule.status == "dropped"
    assert "Sysmon's default is off" in rule.reasons[0]


@pytest.mark.parametrize(("text", "status", "why"), [
    ("logsource: {product: windows, service: security}\ndetection: {s: {EventID: 4624}, condition: s}",
     "not-applicable", "not one Sysmon writes"),
    ("logsource: {product: windows, category: process_creation}\ndetection: {k: ['mimikatz'], condition: k}",
     "unsupported", "keyword search"),
    ("logsource: {product: windows, category: network_connection}\n"
     "detection: {s: {CommandLine|contains: 'x'}, condition: s}", "unsupported", "CommandLine is not in Sysmon"),
    ("logsource: {product: windows, category: process_creation}\n"
     "detection: {s: {CommandLine: 'a', CommandLine|re: 'b+'}, condition: s}", "unsupported", "matches no"),
    ("logsource: {product: linux, category: process_creation}\ndetection: {s: {Image|endswith: '/nc'}, condition: s}",
     "not-applicable", "Sysmon for Linux rule"),
])
def test_what_cannot_be_reasoned_about_says_why(text: str, status: str, why: str) -> None:
    rule = _only(_config(INCLUDE_WGET), "title: t\nid: 33333333-3333-4333-8333-333333333333\n" + text)
    assert rule.status == status
    assert why in " ".join(rule.reasons)


def test_one_of_all_of_and_not_are_read_from_pysigma() -> None:
    text = """
    title: Shapes
    id: 44444444-4444-4444-8444-444444444444
    logsource: {product: windows, category: process_creation}
    detection:
        sel_a: {Image|endswith: ['\\a.exe', '\\b.exe']}
        sel_b: {CommandLine|contains|all: ['-x', '-y']}
        filter_user: {User|startswith: 'NT AUTHORITY\\'}
        condition: 1 of sel_* and not filter_user
    """
    config = _config("""<RuleGroup groupRelation="or"><ProcessCreate onmatch="include">
      <Image condition="end with">\\a.exe</Image><Image condition="end with">\\b.exe</Image>
      <CommandLine condition="contains all">-x;-y</CommandLine></ProcessCreate></RuleGroup>""")
    assert _only(config, text).status == "logged"
    narrower = _config("""<RuleGroup groupRelation="or"><ProcessCreate onmatch="include">
      <Image condition="end with">\\a.exe</Image><CommandLine condition="contains all">-x;-y</CommandLine>
      </ProcessCreate></RuleGroup>""")
    rule = _only(narrower, text)
    assert rule.status == "partial"
    assert any(w.fields.get("Image", "").endswith("\\b.exe") for w in rule.witnesses if w.decision == "exclude")


def test_unreadable_rule_files_are_reported_per_rule_and_the_run_goes_on(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "broken.yml").write_text("title: [unclosed\n", encoding="utf-8")
    (folder / "good.yml").write_text(textwrap.dedent(WGET), encoding="utf-8")
    report = coverage(_config(INCLUDE_WGET), [folder])
    by_path = {Path(r.path).name: r for r in report.rules}
    assert by_path["broken.yml"].status == "unsupported" and by_path["broken.yml"].reasons
    assert by_path["good.yml"].status == "logged"
    assert report.summary["total"] == 2


def test_suggestions_are_rechecked_with_the_snippet_applied() -> None:
    excluded = _config(INCLUDE_WGET + """
<RuleGroup groupRelation="or"><ProcessCreate onmatch="exclude">
  <ParentImage condition="is">C:\\Windows\\explorer.exe</ParentImage>
</ProcessCreate></RuleGroup>""")
    (narrowed,) = coverage(excluded, [_rule(WGET)], suggest=True).rules
    assert narrowed.status == "partial" and narrowed.suggestion_checked == "logged"
    assert "replace the exclude at <config>:6:3" in (narrowed.suggestion or "")
    assert '<Image condition="not end with">\\wget.exe</Image>' in (narrowed.suggestion or "")
    curl = _config("""<RuleGroup groupRelation="or"><ProcessCreate onmatch="include">
      <Image condition="end with">\\curl.exe</Image></ProcessCreate></RuleGroup>""")
    (included,) = coverage(curl, [_rule(WGET)], suggest=True).rules
    assert included.status == "dropped" and included.suggestion_checked == "logged"
    assert 'onmatch="include"' in (included.suggestion or "")
    assert 'name="technique_id=T1105,sigma=Wget download"' in (included.suggestion or "")
