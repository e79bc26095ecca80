"""The diff decides: single-filter edits of seeded random configs, against brute force.

Four hundred pairs (a random config and one edit of it: a condition, a value, a name, an order,
an onmatch or a relation, as the Hypothesis property test makes them), each diffed with and
without RuleNames. The evaluator is the oracle over a small universe of events. Asserted as
counts: "unknown" at most 1 in 50, never "equivalent" when an event is decided differently,
every witness decided differently by the two evaluators as the diff says, and every "unknown"
with its reason.
"""

from __future__ import annotations

import random
from dataclasses import replace

from sysmon_rules.diffing import diff
from sysmon_rules.engine import Evaluator
from sysmon_rules.ruletable import Aggregation, RuleFilter, RuleSet, RuleTable
from test_diff_properties import _DATA, _EVENTS, COMMAND_LINE, IMAGE

PAIRS = 400
EDITS = ("condition", "value", "name", "order", "onmatch", "relation")


def _rule_set(rng: random.Random) -> RuleSet:
    flts = [RuleFilter(rng.choice([IMAGE, COMMAND_LINE]), rng.randint(0, 15), rng.choice(_DATA),
                       rng.choice(["", "x", "y"])) for _ in range(rng.randint(1, 4))]
    aggregations: tuple[Aggregation, ...] = ()
    if len(flts) >= 2 and rng.random() < 0.5:  # the last two filters form a <Rule>
        aggregations = (Aggregation(1, rng.choice(["", "r"]), rng.randint(0, 1)),)
        flts = [*flts[:-2], *(replace(f, aggregation_id=1) for f in flts[-2:])]
    return RuleSet(1, rng.randint(0, 1), rng.randint(0, 1), tuple(flts), aggregations)


def _edited(rng: random.Random, table: RuleTable, edit: str) -> RuleTable:
    sets = list(table.rule_sets)
    k = rng.randrange(len(sets))
    rule_set = sets[k]
    flts = list(rule_set.filters)
    i = rng.randrange(len(flts))
    if edit == "condition":
        flts[i] = replace(flts[i], condition=rng.randint(0, 15))
    elif edit == "value":
        flts[i] = replace(flts[i], value=rng.choice(_DATA))
    elif edit == "name":
        flts[i] = replace(flts[i], name=rng.choice(["", "x", "y", "z"]))
    elif edit == "order":
        j = rng.randrange(len(flts))
        flts[i], flts[j] = flts[j], flts[i]
    elif edit == "onmatch":
        rule_set = replace(rule_set, rule_default=1 - rule_set.rule_default)
    elif rule_set.aggregations and rng.random() < 0.5:
        agg = rule_set.aggregations[0]
        rule_set = replace(rule_set, aggregations=(replace(agg, combine=1 - agg.combine),))
    else:
        rule_set = replace(rule_set, combine=1 - rule_set.combine)
    sets[k] = replace(rule_set, filters=tuple(flts)) if edit in EDITS[:4] else rule_set
    return replace(table, rule_sets=tuple(sets))


def _outcome(evaluator: Evaluator, event: object, names: bool) -> tuple[str, str | None]:
    d = evaluator.decide(event)  # type: ignore[arg-type]
    return d.decision, d.rule_name if names else None


def test_single_edits_are_decided() -> None:
    rng = random.Random(25)
    verdicts = {"equivalent": 0, "different": 0, "unknown": 0}
    false_equivalent = missed = bad_witness = unexplained = 0
    for n in range(PAIRS):
        old = RuleTable(0x00120000, 0x0004005A, tuple(_rule_set(rng) for _ in range(rng.randint(1, 3))))
        new = _edited(rng, old, rng.choice(EDITS))
        names = n % 2 == 0
        a, b = Evaluator(old), Evaluator(new)
        differing = any(_outcome(a, e, names) != _outcome(b, e, names) for e in _EVENTS)
        result = diff(old, new, ignore_rule_names=not names)
        verdicts[result.verdict] += 1
        false_equivalent += result.verdict == "equivalent" and differing
        missed += differing and result.verdict != "different"
        for change in result.witnesses:
            assert change.witness is not None
            event = change.witness.event
            shown = tuple((d.decision, d.rule_name if names else None) for d in change.witness.decisions)
            bad_witness += shown != (_outcome(a, event, names), _outcome(b, event, names)) or shown[0] == shown[1]
        if result.verdict == "unknown":
            unknown = [v for v in result.events if v.status == "unknown"]
            unexplained += not unknown or not all(v.reason for v in unknown)
    assert false_equivalent == 0
    assert bad_witness == 0
    assert unexplained == 0
    assert verdicts["unknown"] * 50 <= PAIRS, verdicts
    # A difference the small universe shows is one the diff must find (at most the unknowns miss it).
    assert missed <= verdicts["unknown"], (missed, verdicts)
    assert verdicts["equivalent"] > PAIRS // 4 and verdicts["different"] > PAIRS // 4, verdicts
