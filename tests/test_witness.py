"""The witness solver against brute force, and its events against the evaluator on real configs."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sysmon_rules
from sysmon_rules.blob.compile import compile_config
from sysmon_rules.engine import MATCH_REASON, Evaluator
from sysmon_rules.engine.conditions import compile_test
from sysmon_rules.errors import SysmonRulesError
from sysmon_rules.ruletable import COMBINE_AND, RuleFilter, RuleSet, RuleTable
from sysmon_rules.schema import CONDITIONS
from sysmon_rules.witness import (
    Constraint,
    disjoint,
    distinguish,
    event_with,
    implies,
    set_event,
    solve_field,
)

_ALPHABET = "ab\\-"
# Every value of up to four characters over the data alphabet plus one letter the data never uses.
_UNIVERSE = ["".join(p) for n in range(1, 5) for p in itertools.product(_ALPHABET + "c", repeat=n)]

constraints = st.lists(st.builds(
    Constraint.of, st.integers(0, len(CONDITIONS) - 1), st.text(_ALPHABET + ";", max_size=3),
    negated=st.booleans()), min_size=1, max_size=3)


def _brute(cs: list[Constraint]) -> str | None:
    return next((u for u in _UNIVERSE if all(compile_test(c.condition, c.data)(u) != c.negated for c in cs)), None)


@settings(max_examples=400, deadline=None)
@given(constraints)
def test_solver_agrees_with_brute_force(cs: list[Constraint]) -> None:
    solution = solve_field(cs)
    exists = _brute(cs)
    if solution.status == "found":
        assert solution.value and all(compile_test(c.condition, c.data)(solution.value) != c.negated for c in cs)
    else:
        # "impossible" is a proof, and on this small alphabet the solver finds every value that exists.
        assert exists is None, (solution, exists)


def test_solver_proofs_name_their_reason() -> None:
    assert solve_field([Constraint.of("begin with", "ab"), Constraint.of("begin with", "b")]).reason.startswith(
        "two 'begin with'")
    assert solve_field([Constraint.of("is", "x"), Constraint.of("is not", "X")]).status == "impossible"
    assert solve_field([Constraint.of("contains all", "a;b"), Constraint.of("excludes any", "b")]).status == \
        "impossible"
    assert solve_field([Constraint.of("image", "a.exe"), Constraint.of("image", "b.exe")]).status == "impossible"


def test_ordering_follows_the_platform_fold() -> None:
    # '_' sorts after uppercase letters but before lowercase ones: Linux compares uppercased.
    cs = [Constraint.of("less than", "_"), Constraint.of("begin with", "a")]
    assert solve_field(cs, "windows").status != "found"
    linux = solve_field(cs, "linux")
    assert linux.status == "found" and linux.value is not None and linux.value.startswith("a")


def test_implies_and_disjoint() -> None:
    assert implies(Constraint.of("begin with", "c:\\windows\\"), Constraint.of("contains", "windows"))
    assert not implies(Constraint.of("contains", "windows"), Constraint.of("begin with", "c:\\windows\\"))
    assert disjoint(Constraint.of("is", "a"), Constraint.of("is", "b"))
    assert not disjoint(Constraint.of("image", "cmd.exe"), Constraint.of("begin with", "c:\\"))


def test_unknown_condition_is_a_library_error() -> None:
    with pytest.raises(SysmonRulesError, match="unknown condition 'starts with'"):
        Constraint.of("starts with", "x")


def _and_set() -> RuleSet:
    # An AND set: two Image filters (one must match: the same-field rescue) and a CommandLine one.
    return RuleSet(1, 1, COMBINE_AND, (RuleFilter(4, 10, "\\a.exe", "a"), RuleFilter(4, 10, "\\b.exe", "b"),
                                       RuleFilter(10, 2, "--x", "x")))


def test_set_event_matches_and_misses_an_and_set() -> None:
    hit, miss = set_event(_and_set()), set_event(_and_set(), match=False)
    assert hit is not None and miss is not None
    alone = Evaluator(RuleTable(0x00120000, 0x0004005A, (_and_set(),)))
    assert alone.decide(hit.event).reason == MATCH_REASON
    assert alone.decide(miss.event).reason != MATCH_REASON


def test_distinguish_finds_a_renamed_filter() -> None:
    old = RuleTable(0x00120000, 0x0004005A, (RuleSet(1, 1, 0, (RuleFilter(4, 10, "\\a.exe", "old"),)),))
    new = RuleTable(0x00120000, 0x0004005A, (RuleSet(1, 1, 0, (RuleFilter(4, 10, "\\a.exe", "new"),)),))
    w = distinguish(Evaluator(old), Evaluator(new), 1)
    assert w is not None and [d.rule_name for d in w.decisions] == ["old", "new"]
    assert distinguish(Evaluator(old), Evaluator(new), 1, ignore_rule_names=True) is None


_CORPUS = ["configs/sysmon-modular/sysmonconfig.xml", "configs/swiftonsecurity/sysmonconfig-export.xml",
           "sysmon-modular-a9ff298/sysmonconfig.xml"]


@pytest.mark.parametrize("name", _CORPUS)
def test_every_nonempty_corpus_set_gets_checked_witnesses(shared_dir: Path, name: str) -> None:
    table = compile_config(sysmon_rules.load(shared_dir / "corpus" / name)).table
    for rule_set in table.rule_sets:
        alone = Evaluator(RuleTable(table.binary_version, table.schema_version, (rule_set,)))
        for match in (True, False):
            w = set_event(rule_set, match=match)
            if match and not rule_set.filters:
                assert w is None  # an empty set never matches
                continue
            assert w is not None, (rule_set.event_id, rule_set.onmatch, match)
            assert (alone.decide(w.event).reason == MATCH_REASON) == match


def test_event_with_every_rule_name_of_a_corpus_config(shared_dir: Path) -> None:
    config = sysmon_rules.load(shared_dir / "corpus/configs/swiftonsecurity/sysmonconfig-export.xml")
    evaluator = Evaluator(config)
    found = 0
    for event_id in (1, 3, 11, 12, 22):
        for want in ("include", "exclude"):
            w = event_with(evaluator, event_id, want)
            assert w is not None and evaluator.decide(w.event).decision == want
            found += 1
    assert found == 10
