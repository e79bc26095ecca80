"""Property tests: the fast evaluator equals the plain reference engine on drawn rule tables, its
explain() walk agrees with decide(), and a config decides the same as its compiled blob."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference_engine import Reference
from sysmon_rules.blob.compile import compile_config
from sysmon_rules.engine import Evaluator
from sysmon_rules.events import Event
from sysmon_rules.model import Config, EventRules, Filter, Rule, RuleGroup
from sysmon_rules.ruletable import Aggregation, RuleFilter, RuleSet, RuleTable
from sysmon_rules.schema import CONDITIONS, newest

# Pieces chosen to hit every quirk: case, ';' lists, backslashes, '_' ordering, '%VAR%', '-'.
PIECES = ["a", "B", "ab", "AB", ";", "a;;b", ";b", "a;", "\\", "_", "%", "%x%", "%Y%", "-", "z", "é", "É", "İ",
          "\U0001d538", "\ue000", "cmd.exe", "\\cmd.exe", "C:\\Win", "", "\x00q"]
# Few field ids, so filters often share a field (same-field rescue, skipping) and events hit them.
FIELD_IDS = [0, 1, 4, 4, 6, 7, 7]
IDS = [1, 3, 5, 12, 13, 14, 17, 18, 19, 20, 21, 4]
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

text = st.lists(st.sampled_from(PIECES), max_size=3).map("".join)
xml_text = st.lists(st.sampled_from([p for p in PIECES if "\x00" not in p]), max_size=3).map("".join)  # XML has no NUL


@st.composite
def rule_tables(draw: st.DrawFn) -> RuleTable:
    sets = []
    for _ in range(draw(st.integers(0, 4))):
        event_id = draw(st.sampled_from(IDS[:-1]))
        n_fields = len(newest().events_by_id[event_id].fields)
        filters = []
        aggregations: dict[int, Aggregation] = {}
        for _ in range(draw(st.sampled_from([0, 1, 2, 2, 3, 3, 4, 6]))):
            agg_id = draw(st.sampled_from([0, 0, 0, 1, 2, 3]))
            if agg_id and agg_id not in aggregations:
                aggregations[agg_id] = Aggregation(agg_id, draw(st.sampled_from(["", "r1", "r2"])),
                                                   draw(st.sampled_from([0, 1, 1, 2])))
            # Weighted to conditions that often match, so AND sets get decided by their details.
            condition = draw(st.one_of(st.integers(0, 15), st.sampled_from([0, 1, 2, 6, 13, 15]),
                                       st.sampled_from([16, 99, 0x40000000, 0x40000002])))
            field_id = draw(st.one_of(st.sampled_from(FIELD_IDS), st.integers(0, n_fields + 2)))
            filters.append(RuleFilter(field_id, condition, draw(text), draw(st.sampled_from(["", "", "n1", "n2"])),
                                      agg_id))
        sets.append(RuleSet(event_id, draw(st.sampled_from([0, 1])), draw(st.sampled_from([0, 1, 1, 2])),
                            tuple(filters), tuple(aggregations.values())))
    version = draw(st.sampled_from([0x00120000, 0x00120000, 0x000E0001, 0x00010001]))
    return RuleTable(version, 0x0004005A, tuple(sets))


@st.composite
def events(draw: st.DrawFn, table: RuleTable | None = None) -> Event:
    """An event, most often of an id the table has sets for, with values built from its data."""
    rule_ids = [rs.event_id for rs in table.rule_sets] if table else []
    event_id = draw(st.sampled_from(rule_ids)) if rule_ids and draw(st.integers(0, 4)) else draw(st.sampled_from(IDS))
    names = [f.name for i, f in enumerate(newest().events_by_id[event_id].fields) if i in FIELD_IDS or i < 3]
    data = [f.value for rs in table.rule_sets for f in rs.filters] if table else []
    near = st.sampled_from(data).flatmap(_near) if data else text
    fields = draw(st.dictionaries(st.sampled_from(names), st.one_of(near, near, text), max_size=len(names)))
    return Event(event_id, fields)


def _near(data: str) -> st.SearchStrategy[str]:
    """Values close to a rule's data: itself, re-cased, a token of it, with text around it."""
    tokens = data.split(";") + data.split("\\")
    return st.one_of(st.just(data), st.just(data.upper()), st.just(data.swapcase()), st.sampled_from(tokens),
                     st.tuples(text, st.sampled_from([data, *tokens]), text).map("".join))


@st.composite
def tables_and_events(draw: st.DrawFn) -> tuple[RuleTable, list[Event]]:
    table = draw(rule_tables())
    return table, draw(st.lists(events(table), min_size=1, max_size=8))


environments = st.sampled_from([None, {"X": "C:\\Win", "y": "ab;%x%"}, {"X": "q" * 300}])


@SETTINGS
@given(tables_and_events(), st.sampled_from(["windows", "linux"]), environments)
def test_fast_engine_equals_reference(drawn: tuple[RuleTable, list[Event]], platform: Any, env: Any) -> None:
    table, evs = drawn
    fast = Evaluator(table, platform=platform, environment=env)
    slow = Reference(table, platform, env)
    for event in evs:
        got = fast.decide(event)
        assert (got.decision, got.rule_name) == slow.decide(event.event_id, event.fields)
        explained = fast.explain(event)
        assert (explained.decision, explained.rule_name) == (got.decision, got.rule_name)


FIELDS = {"ProcessCreate": ["Image", "CommandLine", "User", "RuleName"],
          "RegistryEvent": ["TargetObject", "Details", "NewName", "EventType", "User"]}
CONDITION_NAMES = st.sampled_from([None, *CONDITIONS])


@st.composite
def configs(draw: st.DrawFn) -> Config:
    nodes: list[RuleGroup | EventRules] = []
    for _ in range(draw(st.integers(1, 4))):
        element = draw(st.sampled_from(sorted(FIELDS)))
        field = st.builds(Filter, st.sampled_from(FIELDS[element]), xml_text,
                          CONDITION_NAMES, st.sampled_from([None, "f"]))
        rule = st.builds(Rule, st.lists(field, min_size=1, max_size=3).map(tuple),
                         st.sampled_from([None, "and", "or"]), st.sampled_from([None, "r"]))
        items = draw(st.lists(st.one_of(field, rule), max_size=4))
        ev = EventRules(element, tuple(items), onmatch=draw(st.sampled_from(["include", "exclude"])))
        relation = draw(st.sampled_from([None, "and", "or"]))
        nodes.append(RuleGroup((ev,), relation, draw(st.sampled_from([None, "g"]))) if relation else ev)
    return Config(draw(st.sampled_from(["4.50", "4.1", "4.90"])), (), tuple(nodes))


@SETTINGS
@given(configs(), st.lists(events(), min_size=1, max_size=6))
def test_config_and_its_blob_decide_alike(config: Config, evs: list[Event]) -> None:
    compiled = compile_config(config)  # drawn valid: known conditions, short names
    from_xml, from_blob = Evaluator(config), Evaluator(compiled.data)
    reference = Reference(compiled.table)
    for event in evs:
        a, b = from_xml.decide(event), from_blob.decide(event)
        assert (a.decision, a.rule_name) == (b.decision, b.rule_name)
        assert (a.decision, a.rule_name) == reference.decide(event.event_id, event.fields)
