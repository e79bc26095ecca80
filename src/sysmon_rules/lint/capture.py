"""``rule-name-captured``: named items whose events, or a described part of them, an earlier item names.

Sysmon tries an event's include sets in order and each set's items in order; the first match
decides the event and its RuleName. An earlier ``<Rule groupRelation="and">`` (or a top-level
``EventType`` filter) captures a later named item when each of its filters either follows from
the later item's own filters (``engine.cover.covers``) or narrows events only by their EventType
(every CreatePipe event) or by a test almost every value passes ('is not' a name): the later
item's events of that part are logged under the earlier item's name, or none. Each finding is
decided on a witness event by the evaluator before it is reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations, islice

from ..engine.compiled import CFilter, CGroup, CSet
from ..engine.conditions import MATCH, fold, folded_value
from ..engine.cover import covers, witness
from ..engine.setwalk import check_filter, walk_group
from ..errors import Diagnostic, Location
from ..events import Event
from ..ruletable import COMBINE_AND, COMBINE_OR
from .context import LintContext
from .finding import finding, shown
from .logic import SAMPLES, everyday, matches_almost_all
from .sets import SetChecker

# The EventType values each event id carries (SysmonCommon: ioctlcmd.h's RegistryEventStrings and
# PipeEventStrings; eventsCommon.cpp logs SetValue as event 13, RenameKey as 14, every other
# registry subtype as 12). A capture narrowed by EventType is judged only for these ids.
EVENT_TYPES: dict[int, tuple[str, ...]] = {
    12: ("CreateKey", "DeleteKey", "CreateValue", "DeleteValue", "RenameValue"),
    13: ("SetValue",), 14: ("RenameKey",), 17: ("CreatePipe",), 18: ("ConnectPipe",),
}
_TRIES = 4  # values tried per field (a witness the excludes drop is retried with the next)
_MAX_FIELDS = 6  # a later item testing more fields than this is not searched (subsets of its fields)
_MAX_CANDIDATES = 256  # earlier items tried per named item: bounds the work on huge configs (a miss, never a
# wrong finding)


@dataclass(frozen=True)
class Item:
    """One item of an include OR set, in Sysmon's order: a top-level filter or a <Rule>."""

    order: int  # position in the event's evaluation order
    set_index: int
    index: int  # position in its set
    filters: tuple[CFilter, ...]
    group: CGroup | None

    @property
    def name(self) -> str | None:
        """The RuleName a match of the whole item reports (an AND <Rule>: its last named filter)."""
        return next((f.name for f in reversed(self.filters) if f.name), None)



class CaptureChecker:
    def __init__(self, ctx: LintContext) -> None:
        self.ctx = ctx
        self.sets = SetChecker(ctx)
        self.reported: set[tuple[int, int, int]] = set()
        # A set's field ids index its own event type's fields; a series (17/18, 12-14) shares sets.
        self.owner = {id(f): s.event_id for s in ctx.table.rule_sets for f in s.filters}

    def check(self) -> Iterator[Diagnostic]:
        ids = {e for s in self.ctx.table.rule_sets for e in self.ctx.evaluator.sharing_sets_with(s.event_id)}
        for event_id in sorted(ids):
            yield from self.event(event_id)

    def may_capture(self, event_id: int) -> bool:
        """Whether an include OR set of the id has an AND <Rule> or a top-level EventType filter (the
        only items that capture): checked on the rule table, before compiling any set."""
        for s in self.ctx.rule_sets_for(event_id):
            if s.onmatch != "include" or s.combine != COMBINE_OR:
                continue
            if any(a.combine == COMBINE_AND for a in s.aggregations):
                return True
            names = self.sets.fields.get(s.event_id, ())
            if any(f.aggregation_id == 0 and f.field_id < len(names) and names[f.field_id] == "EventType"
                   for f in s.filters):
                return True
        return False

    def event(self, event_id: int) -> Iterator[Diagnostic]:
        if not self.may_capture(event_id):
            return
        plan = self.ctx.evaluator.plan(event_id)
        items = list(self.items(plan.sets, event_id))
        by_fields: dict[frozenset[str], list[Item]] = {}
        for item in items:
            if (item.group is not None and item.group.combine == COMBINE_AND) or self.is_event_type(item, event_id):
                by_fields.setdefault(self.specific_fields(item, event_id), []).append(item)
        if not by_fields:
            return
        for later in items:
            if not later.name or len({f.field_id for f in later.filters}) > _MAX_FIELDS:
                continue
            if later.group is not None and later.group.combine != COMBINE_AND:
                continue
            for earlier in islice(self.candidates(later, by_fields, event_id), _MAX_CANDIDATES):
                found = self.captured(event_id, plan.sets, earlier, later)
                if found is not None:
                    yield found
                    break

    def items(self, sets: tuple[CSet, ...], event_id: int) -> Iterator[Item]:
        order = 0
        for k, cset in enumerate(sets):
            if cset.on_match != "include" or cset.combine != COMBINE_OR:
                continue
            for i, item in enumerate(cset.items):
                filters = item.filters if isinstance(item, CGroup) else (item,)
                yield Item(order, k, i, filters, item if isinstance(item, CGroup) else None)
                order += 1

    def field(self, flt: CFilter, event_id: int) -> str:
        """The filter's field name, in its own set's event type (``event_id``: the event judged)."""
        names = self.sets.fields.get(self.owner.get(id(flt.source), event_id), ())
        return names[flt.field_id] if flt.field_id < len(names) else f"field {flt.field_id}"

    def is_event_type(self, item: Item, event_id: int) -> bool:
        return item.group is None and self.field(item.filters[0], event_id) == "EventType"

    def residual(self, flt: CFilter, event_id: int) -> bool:
        """A filter that narrows events only by their EventType, or that almost every value passes."""
        return self.field(flt, event_id) == "EventType" or matches_almost_all(flt.source)

    def specific_fields(self, item: Item, event_id: int) -> frozenset[str]:
        """The fields (by name: sets of one series may index different field tables) of the filters
        that a later item must imply."""
        return frozenset(self.field(f, event_id) for f in item.filters if not self.residual(f, event_id))

    def candidates(self, later: Item, by_fields: dict[frozenset[str], list[Item]], event_id: int) -> Iterator[Item]:
        """Earlier items whose specific filters test only fields the later item tests, in order."""
        fields = sorted({self.field(f, event_id) for f in later.filters})
        found = [e for n in range(len(fields) + 1) for subset in combinations(fields, n)
                 for e in by_fields.get(frozenset(subset), ()) if e.order < later.order]
        yield from sorted(found, key=lambda e: e.order)

    def captured(self, event_id: int, sets: tuple[CSet, ...], earlier: Item, later: Item) -> Diagnostic | None:
        residual = [f for f in earlier.filters if self.residual(f, event_id)]
        for flt in earlier.filters:
            if any(flt is r for r in residual):
                continue
            name = self.field(flt, event_id)
            if not any(self.field(g, event_id) == name and covers(flt.source, g.source) for g in later.filters):
                return None
        if not residual and earlier.group is None:
            return None  # a top-level filter that covers another: shadowed-filter reports it
        event = next((e for e in self.witnesses(event_id, earlier.filters + later.filters)
                      if self.decided_by(e, sets, earlier, later)), None)
        if event is None:
            return None
        key = (*_line_col(later.filters[0]), _line_col(earlier.filters[0])[0])  # once for 17 and 18, 12-14
        if key in self.reported:
            return None
        self.reported.add(key)
        return self.finding(event, earlier, later, residual)

    def witnesses(self, event_id: int, filters: tuple[CFilter, ...]) -> Iterator[Event]:
        """A few events every filter matches, values as written where the filters allow."""
        by_field: dict[str, list[CFilter]] = {}
        for flt in filters:
            by_field.setdefault(self.field(flt, event_id), []).append(flt)
        choices: dict[str, list[str]] = {}
        for name, group in by_field.items():
            found = [v for v in dict.fromkeys(self.values(name, event_id, group))
                     if all(f.test is not None and f.test(fold(v)) for f in group)]
            if not found:
                return
            choices[name] = found[:_TRIES]
        for i in range(max(len(v) for v in choices.values())):
            yield Event(event_id, {name: values[min(i, len(values) - 1)] for name, values in choices.items()})

    @staticmethod
    def values(name: str, event_id: int, group: list[CFilter]) -> Iterator[str]:
        """Values to try for one field: the filters' own (and longer ones, past an exact exclusion),
        a prefix, needles and suffix put together, then everyday values of the field's kind."""
        if name == "EventType":
            yield from EVENT_TYPES.get(event_id, ())
            return
        own = [v for v in (witness(f.source) for f in group) if v is not None]
        yield from own
        yield from (v + "_x" for v in own)
        by_kind: dict[str, list[str]] = {}
        for f in group:
            by_kind.setdefault(f.source.condition_name, []).append(f.source.value)
        start = max(by_kind.get("begin with", [""]), key=len)
        end = max(by_kind.get("end with", [""]), key=len)
        yield start + "".join(by_kind.get("contains", [])) + end
        yield start + "".join(by_kind.get("contains", [])) + "_x" + end
        yield from everyday(name)
        yield from SAMPLES

    def decided_by(self, event: Event, sets: tuple[CSet, ...], earlier: Item, later: Item) -> bool:
        """The evaluator logs the event from the earlier item's set under another name than the later
        item's, and nothing before the earlier item in that set matches (so it is the one deciding)."""
        decision = self.ctx.evaluator.decide(event)
        cset = sets[earlier.set_index]
        if decision.decision != "include" or decision.rule_set is not cset.rule_set or decision.rule_name == later.name:
            return False
        plan = self.ctx.evaluator.plan(event.event_id)
        valid = plan.valid[earlier.set_index]
        values = {fid: folded_value(event.fields.get(name, "") if name else "") for fid, name in plan.fields}
        for item in cset.items[:earlier.index]:
            if isinstance(item, CGroup):
                if walk_group(item, values, valid, None)[0] == MATCH:
                    return False
            elif check_filter(item, values, valid) == MATCH:
                return False
        return True

    def where(self, item: Item) -> Location:
        """The <Rule> element of a group, else the filter."""
        first = item.filters[0].source.location or Location()
        if item.group is None:
            return first
        element = self.ctx.elements.get((first.line, first.column))
        parent = element.getparent() if element is not None else None
        return self.ctx.doc.location(parent) if parent is not None else first

    def describe(self, item: Item, event_id: int) -> str:
        parts = [f'<{self.field(f, event_id)} condition="{f.source.condition_name}">{f.source.value}'
                 for f in item.filters]
        if item.group is None:
            return parts[0]
        return f'<Rule groupRelation="and"> ({" AND ".join(parts)})'

    def finding(self, event: Event, earlier: Item, later: Item, residual: list[CFilter]) -> Diagnostic:
        event_types = [event.fields["EventType"] for f in residual if self.field(f, event.event_id) == "EventType"]
        broad = any(self.field(f, event.event_id) != "EventType" for f in residual)
        kind = f"{event_types[0]} event" if event_types else "event"
        part = f"{'almost ' if broad else ''}every {kind} it logs"
        decision = self.ctx.evaluator.decide(event)
        logged = f"RuleName {shown(decision.rule_name)}" if decision.rule_name else "no RuleName"
        name = later.name or ""
        shown_fields = ", ".join(f"{k}={shown(v)}" for k, v in event.fields.items())
        where = self.where(earlier)
        return finding(
            "rule-name-captured",
            f"{self.describe(later, event.event_id)} (RuleName {shown(name)}) is logged with {logged} on {part}: "
            f"{self.describe(earlier, event.event_id)} at line {where.line} matches first (witness: event "
            f"{event.event_id} with {shown_fields} is logged with {logged})",
            self.where(later), "move the named filters before it, or narrow or name the earlier rule",
            related=(where,), witness=event, claim=(decision.decision, decision.rule_name))


def _line_col(flt: CFilter) -> tuple[int, int]:
    loc = flt.source.location
    return (loc.line, loc.column) if loc else (0, 0)


def check_capture(ctx: LintContext) -> Iterator[Diagnostic]:
    yield from CaptureChecker(ctx).check()
