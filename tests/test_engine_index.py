"""The candidate index (prefix trees over prefixes, suffixes and needles) must never lose the
first matching filter: big OR sets of overlapping strings, each filter named after its position,
so the reported RuleName shows which filter decided; checked against the reference engine."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reference_engine import Reference
from sysmon_rules.engine import Evaluator
from sysmon_rules.engine.index import trie_pattern
from sysmon_rules.events import Event
from sysmon_rules.ruletable import Aggregation, RuleFilter, RuleSet, RuleTable

COMMAND_LINE = 10
# is, contains, contains any, is any, contains all, begin with, end with, image; sometimes others.
CONDITIONS = st.one_of(st.sampled_from([0, 2, 3, 4, 5, 9, 10, 13]), st.integers(0, 15))
small = st.text(alphabet="aAb\\;.", max_size=5)


@st.composite
def big_or_sets(draw: st.DrawFn) -> RuleTable:
    filters = []
    for i in range(draw(st.integers(1, 40))):
        agg = draw(st.sampled_from([0, 0, 0, 1, 2]))
        filters.append(RuleFilter(COMMAND_LINE, draw(CONDITIONS), draw(small), f"f{i}", agg))
    aggs = (Aggregation(1, "", 1), Aggregation(2, "", 0))
    return RuleTable(0x00120000, 0, (RuleSet(1, 1, 0, tuple(filters), aggs),))


@settings(max_examples=300, deadline=None)
@given(big_or_sets(), st.lists(st.text(alphabet="aAb\\;.", max_size=9), min_size=1, max_size=10))
def test_first_match_survives_the_index(table: RuleTable, values: list[str]) -> None:
    fast, slow = Evaluator(table), Reference(table)
    for value in values:
        got = fast.decide(Event(1, {"CommandLine": value}))
        assert (got.decision, got.rule_name) == slow.decide(1, {"CommandLine": value})


def test_trie_pattern_prefers_the_longest_word() -> None:
    import re

    words = ["ab", "abc", "abcde", "b", "a.c"]
    rx = re.compile(trie_pattern(sorted(words, key=len, reverse=True)))
    assert [m.group() for m in [rx.match("abcdX"), rx.match("abcdeY"), rx.match("a.c"), rx.match("aXc")]
            if m] == ["abc", "abcde", "a.c"]
