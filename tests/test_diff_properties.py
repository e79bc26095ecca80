"""Hypothesis: a random config and one random mutation of it; the diff against brute force.

Every event over a small universe of values is decided by both configs (the evaluator is the
oracle): when one is decided differently the diff must say "different", when it says
"equivalent" none may be, and every witness it gives must be decided differently.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sysmon_rules.diffing import diff
from sysmon_rules.diffing.decide import Decider
from sysmon_rules.diffing.render import to_text
from sysmon_rules.engine import Evaluator
from sysmon_rules.events import Event
from sysmon_rules.ruletable import Aggregation, RuleFilter, RuleSet, RuleTable

IMAGE, COMMAND_LINE = 4, 10  # ProcessCreate field ids
_ALPHABET = "ab\\"
_VALUES = ["".join(p) for n in range(1, 4) for p in itertools.product(_ALPHABET, repeat=n)]
_EVENTS = [Event(1, {k: v for k, v in (("Image", i), ("CommandLine", c)) if v is not None})
           for i in [None, *_VALUES] for c in [None, *_VALUES[:12]]]
_DATA = ["a", "b", "ab", "ba", "\\a", "a;b", "b;", "aa"]
_EXAMPLES = int(os.environ.get("SYSMON_RULES_DIFF_EXAMPLES", "120"))

filters = st.builds(RuleFilter, st.sampled_from([IMAGE, COMMAND_LINE]), st.integers(0, 15), st.sampled_from(_DATA),
                    st.sampled_from(["", "x", "y"]))


@st.composite
def rule_sets(draw: st.DrawFn) -> RuleSet:
    flts = draw(st.lists(filters, min_size=1, max_size=4))
    aggregations: tuple[Aggregation, ...] = ()
    if len(flts) >= 2 and draw(st.booleans()):  # the last two filters form a <Rule>
        aggregations = (Aggregation(1, draw(st.sampled_from(["", "r"])), draw(st.integers(0, 1))),)
        flts = [*flts[:-2], *(replace(f, aggregation_id=1) for f in flts[-2:])]
    return RuleSet(1, draw(st.integers(0, 1)), draw(st.integers(0, 1)), tuple(flts), aggregations)


tables = st.builds(lambda sets: RuleTable(0x00120000, 0x0004005A, tuple(sets)),
                   st.lists(rule_sets(), min_size=1, max_size=3))


def _edit_filter(table: RuleTable, draw: st.DrawFn, edit: str) -> RuleTable:
    k = draw(st.integers(0, len(table.rule_sets) - 1))
    rule_set = table.rule_sets[k]
    flts = list(rule_set.filters)
    i = draw(st.integers(0, len(flts) - 1))
    if edit == "condition":
        flts[i] = replace(flts[i], condition=draw(st.integers(0, 15)))
    elif edit == "value":
        flts[i] = replace(flts[i], value=draw(st.sampled_from(_DATA)))
    elif edit == "name":
        flts[i] = replace(flts[i], name=draw(st.sampled_from(["", "x", "y", "z"])))
    elif edit == "order" and len(flts) > 1:
        j = draw(st.integers(0, len(flts) - 1))
        flts[i], flts[j] = flts[j], flts[i]
    sets = list(table.rule_sets)
    sets[k] = replace(rule_set, filters=tuple(flts))
    return replace(table, rule_sets=tuple(sets))


def _edit_set(table: RuleTable, draw: st.DrawFn, edit: str) -> RuleTable:
    k = draw(st.integers(0, len(table.rule_sets) - 1))
    rule_set = table.rule_sets[k]
    if edit == "onmatch":
        rule_set = replace(rule_set, rule_default=1 - rule_set.rule_default)
    elif rule_set.aggregations and draw(st.booleans()):  # relation of the <Rule>
        agg = rule_set.aggregations[0]
        rule_set = replace(rule_set, aggregations=(replace(agg, combine=1 - agg.combine),))
    else:  # relation of the set
        rule_set = replace(rule_set, combine=1 - rule_set.combine)
    sets = list(table.rule_sets)
    sets[k] = rule_set
    return replace(table, rule_sets=tuple(sets))


@st.composite
def mutated(draw: st.DrawFn) -> tuple[RuleTable, RuleTable, str]:
    table = draw(tables)
    edit = draw(st.sampled_from(["condition", "value", "name", "order", "onmatch", "relation"]))
    if edit in ("onmatch", "relation"):
        return table, _edit_set(table, draw, edit), edit
    return table, _edit_filter(table, draw, edit), edit


def _outcome(evaluator: Evaluator, event: Event) -> tuple[str, str | None]:
    d = evaluator.decide(event)
    return d.decision, d.rule_name


@settings(max_examples=_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.booleans())
def test_change_reported_iff_some_event_differs(case: tuple[RuleTable, RuleTable, str], ignore: bool) -> None:
    old, new, _edit = case
    a, b = Evaluator(old), Evaluator(new)
    index = 0 if ignore else 1
    differing = [e for e in _EVENTS if _outcome(a, e)[: index + 1] != _outcome(b, e)[: index + 1]]
    result = diff(old, new, ignore_rule_names=ignore)
    if result.verdict == "equivalent":
        assert not differing, (result.reason, differing[0])
    if differing:
        assert result.verdict == "different", (result.verdict, result.reason, differing[0], to_text(result))
    for change in result.witnesses:
        assert change.witness is not None
        event = change.witness.event
        assert _outcome(a, event)[: index + 1] != _outcome(b, event)[: index + 1]
        assert (change.witness.decisions[0].decision, change.witness.decisions[1].decision) == \
            (a.decide(event).decision, b.decide(event).decision)
    if result.verdict == "different":
        assert result.witnesses


def _passing_name_case(named_field: int) -> tuple[RuleTable, RuleTable]:
    """Hypothesis' case: an exclude set {Image is 'a'}, then an exclude set of `Image is not 'a'`
    and an AND <Rule> [Image is 'a', <named_field> contains 'a' (name 'x')], and the same set with
    its filters in reverse order. In the new order the <Rule> comes first: on a value containing
    'a' but not 'a' itself its named filter matches, the <Rule> fails, and 'x' is passed on to
    the unnamed `is not 'a'` that matches next; in the old order that filter matches first."""
    first = RuleSet(1, 0, 0, (RuleFilter(IMAGE, 0, "a"),), ())
    flts = (RuleFilter(IMAGE, 1, "a"), RuleFilter(IMAGE, 0, "a", "", 1), RuleFilter(named_field, 2, "a", "x", 1))
    before = RuleSet(1, 0, 0, flts, (Aggregation(1, "", 1),))
    after = replace(before, filters=flts[::-1])
    return (RuleTable(0x00120000, 0x0004005A, (first, before)), RuleTable(0x00120000, 0x0004005A, (first, after)))


def test_a_name_passed_on_by_a_failing_rule_is_witnessed() -> None:
    for named_field in (IMAGE, COMMAND_LINE):
        old, new = _passing_name_case(named_field)
        a, b = Evaluator(old), Evaluator(new)
        assert any(_outcome(a, e) != _outcome(b, e) for e in _EVENTS)
        assert diff(old, new, ignore_rule_names=True).verdict == "equivalent"  # only the name differs
        # The first-match lists alone give the witness: no exhaustive search needed.
        decider = Decider(a, b, names=True)
        fa, fb = decider.flat(0, 1), decider.flat(1, 1)
        assert fa is not None and fb is not None
        witness = decider.flat_witness(1, fa, fb)
        assert witness is not None and _outcome(a, witness.event) != _outcome(b, witness.event)
        result = diff(old, new)
        assert result.verdict == "different", result.reason
        # Each change of the rewritten set gets it (neither alone decides it differently).
        assert len(result.changes) == len(result.witnesses) == 2, to_text(result)
        for change in result.witnesses:
            assert change.witness is not None
            event = change.witness.event
            assert _outcome(a, event) != _outcome(b, event)
            assert [d.rule_name for d in change.witness.decisions] == [a.decide(event).rule_name,
                                                                        b.decide(event).rule_name]
