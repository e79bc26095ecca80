"""Set and event level behaviour (reference map §4-§5, Sysmon's rules.cpp tables), the
environment expansion, IdHasIncludeRules and explain()."""

from __future__ import annotations

import pytest

import sysmon_rules
from sysmon_rules.engine import MANY_SETS_DROP, NEVER, NO_RULES, Evaluator
from sysmon_rules.errors import SysmonRulesError
from sysmon_rules.events import Event
from sysmon_rules.ruletable import Aggregation, RuleFilter, RuleSet, RuleTable

V18, V14_1 = 0x00120000, 0x000E0001
IMAGE, COMMAND_LINE, USER = 4, 10, 12
IS, IS_NOT, CONTAINS = 0, 1, 2
INCLUDE_SET, EXCLUDE_SET = 1, 0  # RuleDefault of onmatch="include" / onmatch="exclude"
AND, OR = 1, 0


def decide(table: RuleTable, event_id: int = 1, **fields: str) -> tuple[str, str | None]:
    got = Evaluator(table).decide(Event(event_id, fields))
    return got.decision, got.rule_name


def one_set(*filters: RuleFilter, combine: int = AND, aggs: tuple[Aggregation, ...] = (),
            version: int = V18) -> RuleTable:
    return RuleTable(version, 0, (RuleSet(1, INCLUDE_SET, combine, filters, aggs),))


def test_and_rescues_a_field_tested_again_later() -> None:
    table = one_set(RuleFilter(IMAGE, IS, "a"), RuleFilter(IMAGE, IS, "b"))
    assert decide(table, Image="b")[0] == "include"
    assert decide(table, Image="c")[0] == "exclude"


def test_two_is_not_on_one_field_match_everything() -> None:
    # Gotcha 3: in an AND set they are OR-ed.
    table = one_set(RuleFilter(IMAGE, IS_NOT, "a"), RuleFilter(IMAGE, IS_NOT, "b"))
    assert decide(table, Image="a")[0] == "include"
    wrapped = one_set(RuleFilter(IMAGE, IS_NOT, "a", aggregation_id=1),
                      RuleFilter(IMAGE, IS_NOT, "b", aggregation_id=1), aggs=(Aggregation(1, "", AND),))
    assert decide(wrapped, Image="a")[0] == "exclude"


def test_matched_field_is_skipped_so_its_later_name_is_not_reported() -> None:
    table = one_set(RuleFilter(IMAGE, CONTAINS, "a", "first"), RuleFilter(IMAGE, CONTAINS, "b", "second"))
    assert decide(table, Image="ab") == ("include", "first")


def test_and_set_reports_the_last_named_match() -> None:
    table = one_set(RuleFilter(IMAGE, IS, "a", "x"), RuleFilter(COMMAND_LINE, IS, "c", "y"))
    assert decide(table, Image="a", CommandLine="c") == ("include", "y")


def test_rule_name_leaks_from_a_set_that_did_not_match() -> None:
    # Sets run in reverse blob order, so set 1 (partly matching, named) runs before set 0.
    matching = RuleSet(1, INCLUDE_SET, OR, (RuleFilter(USER, IS, "u"),))
    partial = RuleSet(1, INCLUDE_SET, AND, (RuleFilter(IMAGE, IS, "a", "leak"), RuleFilter(COMMAND_LINE, IS, "no")))
    table = RuleTable(V18, 0, (matching, partial))
    assert decide(table, Image="a", User="u") == ("include", "leak")
    # Nothing matches at all: the name is reset.
    assert decide(table, Image="a") == ("exclude", None)


def test_aggregation_name_wins_up_to_binary_14_1() -> None:
    filters = (RuleFilter(IMAGE, IS, "a", "field", aggregation_id=1),)
    aggs = (Aggregation(1, "rule", OR),)
    assert decide(one_set(*filters, aggs=aggs, version=V14_1), Image="a") == ("include", "rule")
    assert decide(one_set(*filters, aggs=aggs, version=V18), Image="a") == ("include", "field")


def test_exclude_sets_run_first() -> None:
    include = RuleSet(1, INCLUDE_SET, OR, (RuleFilter(IMAGE, IS, "a", "in"),))
    exclude = RuleSet(1, EXCLUDE_SET, OR, (RuleFilter(IMAGE, IS, "a", "out"),))
    assert decide(RuleTable(V18, 0, (exclude, include)), Image="a") == ("exclude", "out")
    assert decide(RuleTable(V18, 0, (include, exclude)), Image="a") == ("exclude", "out")


def test_no_match_in_two_sets_drops_the_event() -> None:
    include = RuleSet(1, INCLUDE_SET, OR, (RuleFilter(IMAGE, IS, "a"),))
    exclude = RuleSet(1, EXCLUDE_SET, OR, (RuleFilter(IMAGE, IS, "b"),))
    got = Evaluator(RuleTable(V18, 0, (include, exclude))).decide(Event(1, {"Image": "c"}))
    assert (got.decision, got.reason) == ("exclude", MANY_SETS_DROP)
    assert decide(RuleTable(V18, 0, (exclude,)), Image="c")[0] == "include"


def test_defaults_without_sets_and_never_filtered_events() -> None:
    evaluator = Evaluator(RuleTable(V18, 0, (RuleSet(3, INCLUDE_SET, OR, ()),)))
    assert evaluator.decide(Event(1)).decision == "include"  # ruledefault include: ids 1 and 5
    assert evaluator.decide(Event(5)).decision == "include"
    assert evaluator.decide(Event(7)).decision == "exclude"
    assert evaluator.decide(Event(7)).reason == NO_RULES
    assert evaluator.decide(Event(3)).decision == "exclude"  # an empty include set never matches
    for event_id in (4, 16, 255):
        assert evaluator.decide(Event(event_id)).reason == NEVER
        assert evaluator.decide(Event(event_id)).decision == "include"


def test_series_share_one_list_but_fields_must_agree() -> None:
    # A RegistryEvent set built for id 13 (Details = field 7) is tried on ids 12-14, but id 14's
    # field 7 is NewName, so it never matches there.
    table = RuleTable(V18, 0, (RuleSet(13, INCLUDE_SET, OR, (RuleFilter(7, IS, "x"),)),))
    assert decide(table, 13, Details="x")[0] == "include"
    assert decide(table, 14, NewName="x")[0] == "exclude"
    common = RuleTable(V18, 0, (RuleSet(12, INCLUDE_SET, OR, (RuleFilter(6, CONTAINS, "run"),)),))
    assert decide(common, 14, TargetObject="HKLM\\Run")[0] == "include"


def test_environment_expansion_on_windows_only() -> None:
    table = one_set(RuleFilter(COMMAND_LINE, IS, "%SystemRoot%\\notepad.exe"))
    event = Event(1, {"CommandLine": "C:\\WINDOWS\\notepad.exe"})
    assert Evaluator(table, environment={"SYSTEMROOT": "C:\\Windows"}).decide(event).decision == "include"
    assert Evaluator(table, environment={"SystemRoot": "C:\\Windows"}, platform="linux").decide(event).decision \
        == "exclude"
    literal = Event(1, {"CommandLine": "%systemroot%\\notepad.exe"})
    assert Evaluator(table).decide(literal).decision == "include"  # unknown variables stay as written
    assert Evaluator(table, environment={"SystemRoot": "x" * 300}).decide(literal).decision == "exclude"  # MAX_PATH


def test_has_include_rules() -> None:
    empty_exclude = RuleSet(9, EXCLUDE_SET, OR, ())
    assert Evaluator(RuleTable(V18, 0, (empty_exclude,))).has_include_rules(9)
    assert not Evaluator(RuleTable(V18, 0, (RuleSet(9, INCLUDE_SET, OR, ()),))).has_include_rules(9)
    assert not Evaluator(RuleTable(V18, 0, ())).has_include_rules(1)


def test_tables_sysmon_rejects() -> None:
    with pytest.raises(SysmonRulesError, match="Invalid data"):
        Evaluator(RuleTable(V18, 0, (RuleSet(1, 2, OR, ()),)))
    with pytest.raises(SysmonRulesError, match="Invalid event id"):
        Evaluator(RuleTable(V18, 0, (RuleSet(300, 1, OR, ()),)))


def test_explain_shows_each_step_with_source_locations() -> None:
    config = sysmon_rules.loads(
        b'<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="and">'
        b'<ProcessCreate onmatch="include"><Image condition="end with" name="t">\\cmd.exe</Image>'
        b'<CommandLine condition="contains">/c</CommandLine></ProcessCreate></RuleGroup>'
        b"</EventFiltering></Sysmon>")
    got = Evaluator(config).explain(Event(1, {"Image": "C:\\cmd.exe", "CommandLine": "x"}))
    assert (got.decision, got.rule_name) == ("exclude", None)
    assert got.trace is not None
    [tried] = got.trace.sets
    assert [s.status for s in tried.steps] == ["match", "no match"]
    assert tried.steps[0].location is not None and tried.steps[0].location.line >= 1
    assert "Image end with" in str(got.trace)
    assert got.trace.decided_by is None and "CommandLine" not in got.trace.render(steps=False)
    matched = Evaluator(config).explain(Event(1, {"Image": "C:\\cmd.exe", "CommandLine": "/c x"}))
    assert matched.trace is not None and matched.trace.decided_by is matched.trace.sets[-1]
    assert (matched.decision, matched.rule_name) == ("include", "t")
