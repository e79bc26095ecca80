"""Rule-set level findings, on the rule table Sysmon builds, checked with the evaluator.

Sets of one event type are taken in the order Sysmon tries them (exclude sets first, then include
sets, each in reverse document order), so "earlier" here is what the driver does, not the file.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterator

from ..engine import Decision, Evaluator
from ..engine.conditions import fold
from ..engine.cover import covers, same, witness
from ..errors import Diagnostic
from ..events import Event
from ..ruletable import COMBINE_AND, COMBINE_OR, RuleFilter, RuleSet
from ..schema import CONDITIONS, newest
from .context import LintContext
from .coverindex import CoverIndex
from .finding import finding

IMAGE_FIELDS = frozenset({"Image", "ParentImage", "SourceImage", "TargetImage"})
_BYPASSABLE = frozenset({"end with", "contains", "contains any", "image"})


@functools.cache
def _field_names() -> dict[int, tuple[str, ...]]:
    """Event id -> field names of the writer build: blob field ids index these."""
    return {e.id: e.field_names for e in newest("windows").events}



class SetChecker:
    def __init__(self, ctx: LintContext) -> None:
        self.ctx = ctx
        self.table = ctx.table
        self.fields = _field_names()

    @property
    def evaluator(self) -> Evaluator:
        return self.ctx.evaluator

    def field(self, rule_set: RuleSet, flt: RuleFilter) -> str:
        names = self.fields.get(rule_set.event_id, ())
        return names[flt.field_id] if flt.field_id < len(names) else f"field {flt.field_id}"

    def describe(self, rule_set: RuleSet, flt: RuleFilter) -> str:
        return f"<{self.field(rule_set, flt)} condition=\"{CONDITIONS[flt.condition & 0xFFFF]}\">{flt.value}"

    def within_set(self, rule_set: RuleSet) -> Iterator[Diagnostic]:
        top = [f for f in rule_set.filters if f.aggregation_id == 0]
        seen: dict[tuple[int, int, int, str], RuleFilter] = {}
        for flt in rule_set.filters:
            key = (flt.field_id, flt.condition, flt.aggregation_id, fold(flt.value))
            first = seen.get(key)
            if first is not None:
                yield finding("duplicate-filter", f"{self.describe(rule_set, flt)} repeats the filter at line "
                              f"{_line(first)} in this set", flt.location, "remove one copy",
                              related=(first.location,))
            else:
                seen[key] = flt
        if rule_set.combine == COMBINE_AND:
            by_field: dict[int, list[RuleFilter]] = defaultdict(list)
            for flt in top:
                by_field[flt.field_id].append(flt)
            for group in by_field.values():
                if len(group) < 2:
                    continue
                nots = [f for f in group if CONDITIONS[f.condition & 0xFFFF] == "is not"]
                code = "is-not-pair" if len(nots) >= 2 else "and-repeated-field"
                if code == "and-repeated-field" and len(by_field) == 1:
                    continue  # one field only: OR of its filters is what the set does and surely means
                yield finding(code, f"{len(group)} filters on {self.field(rule_set, group[0])} in an AND set "
                               "are combined with OR" + (" and so match every value" if code == "is-not-pair" else ""),
                               group[1].location, 'wrap the filters meant together in <Rule groupRelation="and">')
        if rule_set.onmatch == "exclude" and rule_set.combine == COMBINE_OR:
            for flt in top:
                condition = CONDITIONS[flt.condition & 0xFFFF]
                if self.field(rule_set, flt) in IMAGE_FIELDS and condition in _BYPASSABLE and ":\\" not in flt.value \
                        and not (condition == "image" and "\\" in flt.value):
                    yield finding("bypassable-exclude",
                                   f"{self.describe(rule_set, flt)} excludes any binary of that name, anywhere",
                                   flt.location, "match the full path with condition=\"is\"")

    def across_sets(self) -> Iterator[Diagnostic]:
        for event_id in sorted({s.event_id for s in self.table.rule_sets}):
            ordered = [s for s in self.ctx.rule_sets_for(event_id) if s.event_id == event_id]
            yield from self.empty_include(ordered)
            deciders: list[tuple[RuleSet, RuleFilter]] = []
            index: dict[int, CoverIndex] = defaultdict(CoverIndex)
            for rule_set in (s for s in ordered if s.combine == COMBINE_OR):
                for flt in (f for f in rule_set.filters if f.aggregation_id == 0):
                    by_field = index[flt.field_id]
                    earlier = [deciders[i] for i in by_field.candidates(flt)]
                    yield from self.covered(event_id, rule_set, flt, earlier)
                    by_field.add(len(deciders), flt)
                    deciders.append((rule_set, flt))

    def covered(self, event_id: int, rule_set: RuleSet, flt: RuleFilter,
                deciders: list[tuple[RuleSet, RuleFilter]]) -> Iterator[Diagnostic]:
        """``deciders``: the earlier filters on this field that may cover ``flt``, in Sysmon's order."""
        for earlier_set, earlier in deciders:
            if not covers(earlier, flt) or same(earlier, flt):
                continue
            confirmed = self.confirmed(event_id, rule_set, flt, earlier_set)
            if confirmed is None:
                continue
            event, decision = confirmed
            claim = (decision.decision, decision.rule_name)
            if earlier_set.onmatch == "exclude" and rule_set.onmatch == "include":
                yield finding("cancelled-by-exclude", f"{self.describe(rule_set, flt)} is never logged: "
                              f"{self.describe(earlier_set, earlier)} (line {_line(earlier)}) excludes every "
                              "event it matches", flt.location, related=(earlier.location,), witness=event, claim=claim)
            elif earlier_set.onmatch == rule_set.onmatch:
                yield finding("shadowed-filter", f"{self.describe(rule_set, flt)} never decides: "
                              f"{self.describe(earlier_set, earlier)} (line {_line(earlier)}) matches every "
                              "event it matches and is tried first", flt.location, related=(earlier.location,),
                              witness=event, claim=claim)
            return

    def confirmed(self, event_id: int, rule_set: RuleSet, flt: RuleFilter,
                  earlier_set: RuleSet) -> tuple[Event, Decision] | None:
        """An event built to match ``flt`` that an earlier set decides (the evaluator's word), or None."""
        value = witness(flt)
        if value is None:
            return None
        event = Event(event_id, {self.field(rule_set, flt): value})
        decision = self.evaluator.decide(event)
        if (decision.rule_set is not None and decision.rule_set is earlier_set) or (
                earlier_set is rule_set and decision.rule_set is rule_set):
            return event, decision
        return None

    def empty_include(self, ordered: list[RuleSet]) -> Iterator[Diagnostic]:
        includes = [s for s in ordered if s.onmatch == "include"]
        excludes = [s for s in ordered if s.onmatch == "exclude" and s.filters]
        if includes and excludes and not any(s.filters for s in includes):
            yield finding("empty-include-set", f"event {includes[0].event_id}: the include set is empty next to "
                           f"{len(excludes)} exclude set(s), so nothing of this event type is logged",
                           includes[0].location, 'remove the empty onmatch="include" set to log what is not excluded')


def _line(flt: RuleFilter) -> int:
    return flt.location.line if flt.location else 0
