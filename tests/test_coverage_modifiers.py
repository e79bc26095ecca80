"""Sigma's value modifiers and value types as coverage reads them, against pySigma's SQLite backend.

A differential audit over every SigmaHQ Windows rule under sysmon-modular (docs/coverage.md,
"Sigma modifiers and values"). The oracle is pySigma's own SQLite backend (``sigma_sqlite``):
the rule as SQL, run over a table of events. Three properties:

- every witness coverage shows (an event it claims the rule matches, logged or dropped) is an
  event the rule's SQL selects;
- a rule coverage gives no witness because it "matches no Sysmon event" or only events holding "a
  value Sysmon never writes" selects none of the events coverage or SigmaHQ's captures hold;
- for the rules using the rarer modifiers and values (``re``, ``cidr``, ``base64offset``,
  ``base64``, ``windash``, ``fieldref``, ``cased``, ``expand``, ``null``, ``''``, numbers, booleans,
  wildcards inside a value, escaped wildcards): over SigmaHQ's regression captures and the rule's
  own witnesses (as shown and with their letters' case turned over), the independent Sigma check
  (``sigmacheck``, used for evidence and re-checks) selects exactly what SQL selects, and so does
  the detection formula
  (its plain tests compare folded, as Sysmon does; a case-sensitive regex reads the value's case),
  save one documented difference: a field reference reads as true in the formula (it tests two
  fields at once; witnesses are repaired to it and re-checked).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule

from sigma_corpus import captures
from sigma_sqlite import EventTable, queries, selected
from sysmon_rules.collectors import CollectorWarning, read
from sysmon_rules.engine.conditions import fold
from sysmon_rules.readiness import CoverageReport, SigmaInput
from sysmon_rules.readiness.detection import detection_formula
from sysmon_rules.readiness.fields import EVENT_ID
from sysmon_rules.readiness.formula import disj, evaluate, substitute
from sysmon_rules.readiness.sigmacheck import sigma_matches, text_fields
from sysmon_rules.schema import newest

pytest.importorskip("sigma.backends.sqlite")
pytest.importorskip("sigma.pipelines.sysmon")

Rows = list[tuple[int, dict[str, str]]]

# pySigma modifier class -> the modifier's name in a rule; the rarer ones the third test covers.
RARE_MODIFIERS = {"SigmaRegularExpressionModifier": "re", "SigmaCIDRModifier": "cidr",
                  "SigmaBase64OffsetModifier": "base64offset", "SigmaBase64Modifier": "base64",
                  "SigmaWindowsDashModifier": "windash", "SigmaFieldReferenceModifier": "fieldref",
                  "SigmaCasedModifier": "cased", "SigmaExpandModifier": "expand"}
RARE_VALUES = ("SigmaNull", "SigmaNumber", "SigmaBool")


def _items(detection: SigmaDetection | SigmaDetectionItem) -> Iterator[SigmaDetectionItem]:
    if isinstance(detection, SigmaDetection):
        for item in detection.detection_items:
            yield from _items(item)
    else:
        yield detection


def rare_features(rule: SigmaRule) -> set[str]:
    """The rarer modifiers and value types ``rule`` uses (names as in a rule; values by kind)."""
    found: set[str] = set()
    for detection in rule.detection.detections.values():
        for item in _items(detection):
            found |= {RARE_MODIFIERS[m.__name__] for m in item.modifiers if m.__name__ in RARE_MODIFIERS}
            for value in item.original_value if isinstance(item.original_value, list) else [item.original_value]:
                kind = type(value).__name__
                if kind in RARE_VALUES:
                    found.add(kind.removeprefix("Sigma").lower())
                elif kind == "SigmaString" and value.original == "":
                    found.add("empty")
                elif kind == "SigmaString" and re.search(r"(?<!\\)(?:\\\\)*\\[*?]", value.original or ""):
                    found.add("escaped wildcard")
                elif kind == "SigmaString" and "SigmaRegularExpressionModifier" not in {
                        m.__name__ for m in item.modifiers} and value.contains_special() and \
                        any(not isinstance(p, str) for p in value.s[1:-1]):
                    found.add("inner wildcard")
    return found


@pytest.fixture(scope="module")
def capture_rows(shared_dir: Path) -> Rows:
    """Every Sysmon event of SigmaHQ's regression captures (each capture once), as Sysmon writes it."""
    sigma = shared_dir / "corpus" / "sigma"
    paths = sorted({p for found in captures(sigma).values() for p in found})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CollectorWarning)
        return [(e.event_id, text_fields(e.fields)) for p in paths for e in read(str(p))]


def _sysmon_rules(windows_coverage: tuple[list[SigmaInput], CoverageReport]) -> Iterator[tuple[SigmaInput, Any]]:
    rules, report = windows_coverage
    assert len(rules) == len(report.rules) >= 3000
    for item, result in zip(rules, report.rules, strict=True):
        if item.rule is not None and result.status != "not-applicable":
            yield item, result


def test_every_witness_is_an_event_pysigma_matches(windows_coverage: tuple[list[SigmaInput], CoverageReport]) -> None:
    checked = rules = 0
    unmatched = []
    for item, result in _sysmon_rules(windows_coverage):
        if not result.witnesses:
            continue
        assert item.rule is not None
        rows = [(w.event_id, dict(w.fields)) for w in result.witnesses]
        chosen = selected(queries(item.rule), rows)
        unmatched += [(item.path, result.status, rows[i]) for i in range(len(rows)) if i not in chosen]
        checked += len(rows)
        rules += 1
    assert rules > 2000 and checked > 10000
    assert unmatched == []


def test_a_rule_called_impossible_matches_no_event(windows_coverage: tuple[list[SigmaInput], CoverageReport],
                                                   capture_rows: Rows) -> None:
    """A rule without witnesses because it "matches no Sysmon event" or each event it matches "holds
    a value Sysmon never writes": SQL selects no witness of any rule and no captured event."""
    pool: Rows = [*capture_rows, *((w.event_id, dict(w.fields)) for r in windows_coverage[1].rules
                                   for w in r.witnesses)]
    claims = ("the detection matches no Sysmon event of its log source", "holds a value Sysmon never writes")
    impossible = [item for item, result in _sysmon_rules(windows_coverage)
                  if not result.witnesses and any(c in r for r in result.reasons for c in claims)]
    assert len(impossible) >= 5
    table = EventTable(pool)
    for item in impossible:
        assert item.rule is not None
        assert table.select(queries(item.rule)) == set(), item.path


def _variants(rows: Rows) -> Rows:
    """Each event as given, and with every value upper-cased and lower-cased."""
    out: Rows = []
    for event_id, fields in rows:
        out += [(event_id, fields), (event_id, {k: v.upper() for k, v in fields.items()}),
                (event_id, {k: v.lower() for k, v in fields.items()})]
    return out


def test_rare_modifiers_match_as_pysigma_does(windows_coverage: tuple[list[SigmaInput], CoverageReport],
                                              capture_rows: Rows) -> None:
    schema = newest("windows")
    used: dict[str, int] = {}
    compared = positive = 0
    differ = []
    for item, result in _sysmon_rules(windows_coverage):
        assert item.rule is not None
        features = rare_features(item.rule)
        if not features:
            continue
        for name in features:
            used[name] = used.get(name, 0) + 1
        trees = [c.parsed for c in item.rule.detection.parsed_condition]
        ids = set(result.event_ids)
        rows = [r for r in capture_rows if r[0] in ids] + _variants([(w.event_id, dict(w.fields))
                                                                      for w in result.witnesses])
        chosen = selected(queries(item.rule), rows)
        loose = "fieldref" in features
        detections = {event_id: substitute(disj([detection_formula(t, schema.events_by_id[event_id].field_names)  # type: ignore[arg-type]
                                                 for t in trees]), EVENT_ID, str(event_id))
                      for event_id in {r[0] for r in rows}}
        for i, (event_id, fields) in enumerate(rows):
            sql = i in chosen
            assert any(sigma_matches(t, event_id, fields) for t in trees) == sql, (item.path, fields, sql)
            detection = detections[event_id]
            values = {k: v or "-" for k, v in fields.items()}  # as written: atoms fold, save a case-sensitive regex
            formula = evaluate(detection, lambda f, v=values: v.get(f, "-"))  # type: ignore[misc]
            compared += 1
            positive += sql
            if formula != sql and not (loose and formula):
                differ.append((item.path, event_id, fields, sql, formula))
    assert differ == [], sorted({(d[0].rsplit('/', 1)[-1], d[3], d[4]) for d in differ})
    assert compared > 5000 and positive > 500
    # Every rarer feature the Sysmon rules use was exercised.
    assert {"re", "cidr", "base64offset", "base64", "windash", "fieldref", "null", "empty", "number", "bool",
            "escaped wildcard", "inner wildcard"} <= set(used), used


def _one_rule(detection: str, category: str = "process_creation") -> SigmaRule:
    from sigma.collection import SigmaCollection

    rule = SigmaCollection.from_yaml(f"title: t\nid: 55555555-5555-4555-8555-555555555555\n"
                                     f"logsource: {{product: windows, category: {category}}}\n"
                                     f"detection:\n{detection}").rules[0]
    assert isinstance(rule, SigmaRule)
    return rule


@pytest.mark.parametrize("value", ["StartModule: ''", "StartModule: null", "StartModule|exists: false"])
def test_null_and_the_empty_string_are_sysmons_empty_value(value: str) -> None:
    """Sysmon writes ``-`` for an empty or missing value: ``null``, ``''`` and ``exists: false`` all
    match that, as the SQLite backend does once its NULL and '' read Sysmon's rendering (sigma_sqlite)."""
    import sysmon_rules as sr
    from sysmon_rules.readiness import coverage

    rule = _one_rule(f"    s: {{TargetImage|endswith: '\\lsass.exe', {value}}}\n    condition: s",
                     "create_remote_thread")
    tree = rule.detection.parsed_condition[0].parsed
    rows: Rows = [(8, {"TargetImage": "C:\\Windows\\System32\\lsass.exe", "StartModule": "-"}),
                  (8, {"TargetImage": "C:\\Windows\\System32\\lsass.exe"}),
                  (8, {"TargetImage": "C:\\Windows\\System32\\lsass.exe", "StartModule": "C:\\x.dll"})]
    assert selected(queries(rule), rows) == {0, 1}
    assert [sigma_matches(tree, 8, fields) for _, fields in rows] == [True, True, False]
    names = newest("windows").events_by_id[8].field_names
    formula = detection_formula(tree, names)  # type: ignore[arg-type]
    assert [evaluate(formula, lambda f, v=fields: fold(v.get(f, "-"))) for _, fields in rows] == [True, True, False]  # type: ignore[misc]
    config = sr.loads('<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or">'
                      '<CreateRemoteThread onmatch="exclude"/></RuleGroup></EventFiltering></Sysmon>')
    result = coverage(config, [rule]).rules[0]
    assert result.status == "logged"  # it was "matches no Sysmon event" while '' read as an empty string
    assert all(w.fields["StartModule"] == "-" for w in result.witnesses)


def test_a_case_sensitive_regex_keeps_its_case_in_the_witness() -> None:
    """``re`` is case-sensitive (Sigma) though Sysmon folds case: the witness carries the case the
    regex needs, and the independent check and SQL agree on every casing."""
    import sysmon_rules as sr
    from sysmon_rules.readiness import coverage

    rule = _one_rule("    s: {Image|endswith: '\\wget.exe', CommandLine|re: '\\s-O\\s'}\n    condition: s")
    tree = rule.detection.parsed_condition[0].parsed
    rows: Rows = [(1, {"Image": "C:\\wget.exe", "CommandLine": "wget -O x http://a"}),
                  (1, {"Image": "C:\\WGET.EXE", "CommandLine": "wget -o x http://a"})]
    assert selected(queries(rule), rows) == {0}
    assert [sigma_matches(tree, 1, fields) for _, fields in rows] == [True, False]
    config = sr.loads('<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or">'
                      '<ProcessCreate onmatch="exclude"/></RuleGroup></EventFiltering></Sysmon>')
    result = coverage(config, [rule]).rules[0]
    assert result.status == "logged" and result.witnesses
    for w in result.witnesses:
        assert re.search(r"\s-O\s", w.fields["CommandLine"]), w.fields
        assert selected(queries(rule), [(1, dict(w.fields))]) == {0}


def test_a_cased_value_is_matched_case_sensitively() -> None:
    """``cased`` (no SigmaHQ Windows rule uses it yet): SQL's GLOB, the independent check and the
    formula agree; coverage's witness has the exact case (it was "unsupported" before)."""
    import sysmon_rules as sr
    from sysmon_rules.readiness import coverage

    rule = _one_rule("    s: {CommandLine|cased|contains: ' -EncodedCommand '}\n    condition: s")
    tree = rule.detection.parsed_condition[0].parsed
    rows: Rows = [(1, {"CommandLine": "powershell -EncodedCommand AAA"}),
                  (1, {"CommandLine": "powershell -encodedcommand AAA"})]
    assert selected(queries(rule), rows) == {0}
    assert [sigma_matches(tree, 1, fields) for _, fields in rows] == [True, False]
    names = newest("windows").events_by_id[1].field_names
    formula = detection_formula(tree, names)  # type: ignore[arg-type]
    assert [evaluate(formula, lambda f, v=fields: v.get(f, "-")) for _, fields in rows] == [True, False]  # type: ignore[misc]
    config = sr.loads('<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or">'
                      '<ProcessCreate onmatch="include"><CommandLine condition="contains">-encodedcommand'
                      '</CommandLine></ProcessCreate></RuleGroup></EventFiltering></Sysmon>')
    result = coverage(config, [rule]).rules[0]
    assert result.status == "logged", result.reasons
    assert all(" -EncodedCommand " in w.fields["CommandLine"] for w in result.witnesses)
    assert all(selected(queries(rule), [(1, dict(w.fields))]) == {0} for w in result.witnesses)


def test_sigma_checks_regex_text_is_pysigmas_to_regex(windows_coverage: tuple[list[SigmaInput], CoverageReport]
                                                      ) -> None:
    """The Sigma check converts strings as ``to_regex`` does, without its validating compile: the
    same text for every string value of every Windows rule (wildcards, escapes, expansions)."""
    from sigma.types import SigmaExpansion, SigmaString

    from sysmon_rules.readiness.sigmacheck import _regex_text

    compared = 0
    for item, _ in _sysmon_rules(windows_coverage):
        assert item.rule is not None
        for detection in item.rule.detection.detections.values():
            for found in _items(detection):
                for value in found.value:
                    for one in value.values if isinstance(value, SigmaExpansion) else [value]:
                        if isinstance(one, SigmaString) and one.s:
                            assert _regex_text(one) == str(one.to_regex().regexp), (item.path, one)
                            compared += 1
    assert compared > 8000
