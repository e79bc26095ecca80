"""One event id at a time: proven the same, shown different by a witness, or unknown and why.

The steps, cheapest first, each a proof or a checked witness:

1. the plans' normal forms are equal (``normal.same_plan``; a set's form is computed once);
2. the reduced first-match lists are equal (``flat``: filters moved between RuleGroups, or made
   redundant by a broader filter, change nothing);
3. a witness built from the entries one list has and the other lacks (each entry matched, the
   entries before it on its field not matched, or a name passed on to it by a failing named AND
   ``<Rule>`` before it), decided by both evaluators;
4. for small parts, the exhaustive check of ``regions`` (a witness, a proof, or a gap);
5. otherwise "unknown", with the reason: the solver or search budget, or the condition pair the
   solver cannot settle, and the filters concerned.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import cast

from ..engine import Evaluator
from ..engine.compiled import CFilter, CGroup
from ..engine.conditions import CONTAINS, CONTAINS_ANY, ENVIRONMENT_BIT, IS, IS_ANY, list_tokens
from ..events import Event
from ..schema import CONDITIONS, newest
from ..witness import Constraint, Witness, differ, solve_field
from ..witness.events import minimal
from ..witness.solve import FOUND
from .flat import Entry, Flat, flatten, parts
from .normal import same_plan
from .regions import decide_exhaustively

EQUAL, DIFFERENT, UNDECIDED = "equivalent", "different", "unknown"
_CANDIDATES = 400  # entries tried for a witness, per event id
_TOKENS = 4  # list tokens tried one by one, the rarest among the lists of that field first
_AVOIDED = 96  # entries a witness event is built to avoid, per kind
_EXHAUSTIVE_FILTERS = 48  # a field with more filters than this is not cut into regions


@dataclass
class EventVerdict:
    """What is known about one event id."""

    event_id: int
    status: str
    proof: str = ""
    witness: Witness | None = None
    reason: str = ""
    filters: tuple[CFilter, ...] = ()

    def to_dict(self, platform: str = "windows") -> dict[str, object]:
        """The JSON form (docs/diff.md, ``events``)."""
        w = self.witness
        return {
            "event_id": self.event_id, "event": event_name(self.event_id, platform), "status": self.status,
            "proof": self.proof or None, "reason": self.reason or None,
            "filters": [filter_text(self.event_id, f, platform) for f in self.filters],
            "witness": w.to_dict() if w is not None else None,
            "old_decision": w.decisions[0].to_dict() if w is not None else None,
            "new_decision": w.decisions[1].to_dict() if w is not None else None,
        }

    @property
    def event(self) -> str:
        return event_name(self.event_id, "windows")


def event_name(event_id: int, platform: str) -> str:
    event = newest(platform).events_by_id.get(event_id)  # type: ignore[arg-type]
    return (event.rulename or event.name) if event is not None else f"event {event_id}"


def filter_text(event_id: int, flt: CFilter, platform: str) -> str:
    """A compiled filter for people: field, condition, data, and where it is."""
    fields = field_names_of(event_id, platform)
    name = fields[flt.field_id] if flt.field_id < len(fields) else f"field {flt.field_id}"
    condition = CONDITIONS[flt.condition] if flt.condition < len(CONDITIONS) else str(flt.condition)
    where = f" at {flt.source.location}" if flt.source.location is not None else ""
    return f"{name} {condition} {flt.source.value!r}{where}"


class Decider:
    """Decides event ids of two evaluators, reusing what two ids with the same plans share."""

    def __init__(self, old: Evaluator, new: Evaluator, *, names: bool, deadline: float | None = None) -> None:
        self.old, self.new, self.names, self.deadline = old, new, names, deadline
        self.flats: dict[tuple[int, int], Flat | None] = {}
        self.shapes: dict[Hashable, Flat | None] = {}
        self.forms: tuple[dict[Hashable, Hashable], dict[Hashable, Hashable]] = ({}, {})  # set forms, per side
        self.seen: dict[Hashable, EventVerdict] = {}

    def flat(self, side: int, event_id: int) -> Flat | None:
        key = (side, event_id)
        if key not in self.flats:
            evaluator = self.old if side == 0 else self.new
            plan = evaluator.plan(event_id)
            # Ids of one series (RegistryEvent's 12-14) often read the same sets the same way.
            shape = (side, tuple(zip((s.rank for s in plan.sets), plan.valid, strict=True)),
                     event_id if any(f == "RuleName" for f in field_names_of(event_id, evaluator.platform)) else 0,
                     plan.default)
            if shape not in self.shapes:
                self.shapes[shape] = flatten(plan, evaluator.platform, names=self.names)
            self.flats[key] = self.shapes[shape]
        return self.flats[key]

    def decide(self, event_id: int) -> EventVerdict:
        return self.prove(event_id) or self.search(event_id)

    def prove(self, event_id: int) -> EventVerdict | None:
        """A proof from the plans' forms alone (no event decided), or None."""
        if same_plan(self.old, self.new, event_id, names=self.names, memos=self.forms):
            return EventVerdict(event_id, EQUAL, "the same rule sets in normal form on both sides")
        fa, fb = self.flat(0, event_id), self.flat(1, event_id)
        if fa is not None and fb is not None and fa.form(self.names) == fb.form(self.names):
            return EventVerdict(event_id, EQUAL, "the same filters decide first on both sides, once the "
                                "filters a broader one covers are dropped")
        return None

    def search(self, event_id: int) -> EventVerdict:
        """A witness, an exhaustive proof, or the reason there is neither."""
        old, new = self.old, self.new
        fa, fb = self.flat(0, event_id), self.flat(1, event_id)
        if fa is not None and fb is not None:
            witness = self.flat_witness(event_id, fa, fb)
            if witness is not None:
                return EventVerdict(event_id, DIFFERENT, witness=witness)
        widest = self.widest_field(event_id)
        if widest <= _EXHAUSTIVE_FILTERS:
            outcome = decide_exhaustively(old, new, event_id, ignore_rule_names=not self.names,
                                          deadline=self.deadline)
            if outcome.witness is not None:
                return EventVerdict(event_id, DIFFERENT, witness=outcome.witness)
            if outcome.proven:
                return EventVerdict(event_id, EQUAL, "every combination of field values the filters tell "
                                    "apart decides alike (exhaustive check)")
            return EventVerdict(event_id, UNDECIDED, reason=outcome.reason, filters=outcome.filters)
        if fa is None or fb is None:
            reason = "search budget: an AND rule set in a plan too big to check exhaustively " \
                     f"({widest} filters on one field)"
        else:
            reason = f"search budget: no witness among the filters that differ, and {widest} filters on one " \
                     "field are too many to check exhaustively"
        return EventVerdict(event_id, UNDECIDED, reason=reason, filters=self.changed_filters(fa, fb))

    def widest_field(self, event_id: int) -> int:
        counts: dict[int, int] = {}
        for evaluator in (self.old, self.new):
            plan = evaluator.plan(event_id)
            for cset in plan.sets:
                for item in cset.items:
                    for flt in item.filters if isinstance(item, CGroup) else (item,):
                        counts[flt.field_id] = counts.get(flt.field_id, 0) + 1
        return max(counts.values(), default=0)

    def changed_filters(self, fa: Flat | None, fb: Flat | None) -> tuple[CFilter, ...]:
        if fa is None or fb is None:
            return ()
        a = {(e.atom, e.label(self.names)) for e in fa.entries}
        b = {(e.atom, e.label(self.names)) for e in fb.entries}
        out = [f for e in fa.entries if (e.atom, e.label(self.names)) not in b for f in e.filters]
        out += [f for e in fb.entries if (e.atom, e.label(self.names)) not in a for f in e.filters]
        return tuple(out[:4])

    def flat_witness(self, event_id: int, fa: Flat, fb: Flat) -> Witness | None:
        """Events that match one entry a list has (or has elsewhere) and the other lacks."""
        names = self.names
        a_keys = {(e.atom, e.label(names)): k for k, e in enumerate(fa.entries)}
        b_keys = {(e.atom, e.label(names)): k for k, e in enumerate(fb.entries)}
        candidates = [(e, fa, fb) for e in fa.entries if (e.atom, e.label(names)) not in b_keys]
        candidates += [(e, fb, fa) for e in fb.entries if (e.atom, e.label(names)) not in a_keys]
        if not candidates:  # the same entries in another order, or another count of sets
            candidates = [(e, fa, fb) for e in fa.entries] + [(e, fb, fa) for e in fb.entries]
        field_names = field_names_of(event_id, self.old.platform)
        tries = [Event(event_id, {})]
        for entry, mine, theirs in candidates[:_CANDIDATES]:
            tries += self.entry_events(event_id, entry, mine, theirs, field_names)
        for k, event in enumerate(tries):
            if self.deadline is not None and k % 64 == 0 and time.monotonic() > self.deadline:
                return None
            if self.differs(event):
                event = minimal(event, self.differs)
                return Witness(event, (self.old.decide(event), self.new.decide(event)))
        return None

    def differs(self, event: Event) -> bool:
        return differ(self.old.decide(event), self.new.decide(event), ignore_rule_names=not self.names)

    def entry_events(self, event_id: int, entry: Entry, mine: Flat, theirs: Flat,
                     field_names: tuple[str, ...]) -> list[Event]:
        """Events matching ``entry``: alone, past the entries before it, past every other entry."""
        wanted = constraints_of(entry)
        if wanted is None:
            return []
        position = mine.entries.index(entry) if entry in mine.entries else 0
        # Plain entries on the fields it needs: the ones before it, and every other one (the
        # nearest _AVOIDED of each, enough to guide; the evaluators check what comes of it).
        before = [e for e in mine.entries[:position] if e.atom[0] == "f" and parts(e.atom)[0][1] in wanted]
        others = [e for e in (*mine.entries, *theirs.entries)
                  if e.atom[0] == "f" and e.atom != entry.atom and parts(e.atom)[0][1] in wanted]
        events = []
        for avoid in ((), before[-_AVOIDED:], others[:_AVOIDED]):
            needs = {fid: list(cs) for fid, cs in wanted.items()}
            for e in avoid:
                fid = parts(e.atom)[0][1]
                needs[fid] += [c.negate() for c in (constraints_of(e) or {}).get(fid, [])]
            event = solve_event(event_id, needs, field_names, self.old.platform)
            if event is not None:
                events.append(event)
        events += self.leak_events(event_id, entry, wanted, field_names)
        return events + self.token_events(event_id, wanted, (*mine.entries, *theirs.entries), field_names)

    def leak_events(self, event_id: int, entry: Entry, wanted: dict[int, list[Constraint]],
                    field_names: tuple[str, ...]) -> list[Event]:
        """Events reaching ``entry`` with a RuleName passed on to it: a named filter of an AND
        ``<Rule>`` before it matches while another filter of that ``<Rule>`` does not (the
        ``<Rule>`` fails, its matched name flows on to this unnamed match)."""
        events = []
        for group in entry.context[-_TOKENS:]:
            forms = [f for f in cast(tuple[tuple[object, ...], ...], group) if len(f) == 5 and not f[3]]
            for named in (f for f in forms if f[4]):
                # Refusing another filter of the <Rule> first: matched whole, it would decide itself.
                for refused in [*(f for f in forms if f is not named), None]:
                    needs = {fid: list(cs) for fid, cs in wanted.items()}
                    for form, negated in ((named, False), (refused, True)):
                        if form is not None:
                            fid, condition, data = cast(tuple[int, int, str], form[:3])
                            needs.setdefault(fid, []).append(Constraint(condition, data, negated))
                    event = solve_event(event_id, needs, field_names, self.old.platform)
                    if event is not None:
                        events.append(event)
                        break  # one event per named filter: the evaluators check what comes of it
        return events

    def token_events(self, event_id: int, wanted: dict[int, list[Constraint]], entries: tuple[Entry, ...],
                     field_names: tuple[str, ...]) -> list[Event]:
        """A list condition (``contains any``, ``is any``) met through a token no other entry's list
        on that field holds: where two versions of one list differ."""
        seen: dict[int, set[str]] = {}
        for e in entries:
            for flt in e.filters:
                if flt.condition in (CONTAINS_ANY, IS_ANY):
                    tokens = list_tokens(flt.data)
                    seen.setdefault(flt.field_id, set()).update(tokens)
        events = []
        for fid, constraints in wanted.items():
            for k, c in enumerate(constraints):
                if c.condition not in (CONTAINS_ANY, IS_ANY) or c.negated:
                    continue
                mine = list_tokens(c.data)
                counts = {t: sum(1 for e in entries for f in e.filters if f.field_id == fid and
                                 f.condition in (CONTAINS_ANY, IS_ANY) and t in list_tokens(f.data)) for t in mine}
                rare = sorted((t for t in mine if t and t in seen.get(fid, set())), key=lambda t: counts[t])
                for token in rare[:_TOKENS]:
                    single = Constraint(CONTAINS if c.condition == CONTAINS_ANY else IS, token)
                    needs = {f: list(cs) for f, cs in wanted.items()}
                    needs[fid] = [*constraints[:k], single, *constraints[k + 1:]]
                    event = solve_event(event_id, needs, field_names, self.old.platform)
                    if event is not None:
                        events.append(event)
        return events


def solve_event(event_id: int, needs: dict[int, list[Constraint]], field_names: tuple[str, ...],
                platform: str) -> Event | None:
    """An event whose fields meet ``needs`` (field id -> constraints), the others absent; None if
    the solver finds no value for some field."""
    values: dict[str, str] = {}
    for fid, constraints in needs.items():
        found = solve_field(constraints, "linux" if platform == "linux" else "windows")
        if found.status != FOUND or found.value is None or fid >= len(field_names):
            return None
        if found.value != "-":
            values[field_names[fid]] = found.value
    return Event(event_id, values)


def constraints_of(entry: Entry) -> dict[int, list[Constraint]] | None:
    out: dict[int, list[Constraint]] = {}
    for flt in entry.filters:
        if flt.condition & ENVIRONMENT_BIT or flt.test is None:
            return None
        out.setdefault(flt.field_id, []).append(Constraint(flt.condition, flt.data))
    return out


def field_names_of(event_id: int, platform: str) -> tuple[str, ...]:
    event = newest(platform).events_by_id.get(event_id)  # type: ignore[arg-type]
    return event.field_names if event is not None else ()


__all__ = ["DIFFERENT", "EQUAL", "UNDECIDED", "Decider", "EventVerdict", "constraints_of", "event_name",
           "field_names_of", "filter_text", "solve_event"]
