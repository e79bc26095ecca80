"""Deciding one event id exactly: every field's values cut into regions no filter tells apart.

Two evaluators read only the filters they hold. Cut each field's values into *regions*: sets of
values on which every filter of that field (in either config) gives the same answer, each with
one value in it (found by ``witness.solve_field``). Any event then decides exactly as the event
made of its fields' region values does, so deciding every combination with both evaluators
either finds a witness (an event they decide differently) or proves that none exists. A region
the solver can neither fill nor refute is a *gap*: without a witness the answer is "unknown",
and the gap (its conditions and field) is the reason. Budgets keep this for small parts of a
config: the cut stops after ``solves`` solver calls, the product after ``events`` events.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..engine import Evaluator
from ..engine.compiled import CFilter, CGroup
from ..events import Event
from ..schema import newest
from ..witness import Constraint, Witness, differ, solve_field
from ..witness.events import minimal
from ..witness.solve import FOUND, IMPOSSIBLE

SOLVES = 4000  # solver calls for one event id's regions
EVENTS = 20000  # events decided (by each evaluator) for one event id


@dataclass
class Regions:
    """One field's regions: a value for each, and the gaps the solver could not settle."""

    values: list[str] = field(default_factory=list)
    gaps: list[tuple[Constraint, ...]] = field(default_factory=list)


@dataclass
class Outcome:
    """What the exhaustive check of one event id found."""

    witness: Witness | None = None
    proven: bool = False
    reason: str = ""  # why neither a witness nor a proof, when so
    filters: tuple[CFilter, ...] = ()  # the filters the reason is about


class _Budget(Exception):
    pass


def cut(constraints: Iterable[Constraint], platform: str, budget: list[int]) -> Regions:
    """Regions of one field for ``constraints`` (each taken as a condition that may hold or not)."""
    plat = "linux" if platform == "linux" else "windows"
    start = solve_field([], plat)
    regions: list[tuple[tuple[Constraint, ...], str]] = [((), start.value or "x")]
    gaps: list[tuple[Constraint, ...]] = []
    for constraint in dict.fromkeys(constraints):
        test = constraint.test(plat)
        split: list[tuple[tuple[Constraint, ...], str]] = []
        for known, value in regions:
            holds = test(value)
            split.append(((*known, constraint if holds else constraint.negate()), value))
            other = (*known, constraint.negate() if holds else constraint)
            budget[0] -= 1
            if budget[0] < 0:
                raise _Budget
            found = solve_field(other, plat)
            if found.status == FOUND and found.value is not None:
                split.append((other, found.value))
            elif found.status != IMPOSSIBLE:
                gaps.append(other)
        regions = split
        # A gap stays a gap when cut further: keep the shortest reason.
    return Regions([v for _, v in regions], gaps)


def _filters(evaluator: Evaluator, event_id: int) -> list[tuple[CFilter, frozenset[int]]]:
    plan = evaluator.plan(event_id)
    out = []
    for cset, valid in zip(plan.sets, plan.valid, strict=True):
        for item in cset.items:
            for flt in item.filters if isinstance(item, CGroup) else (item,):
                if flt.field_id in valid and not flt.dead and flt.test is not None:
                    out.append((flt, valid))
    return out


def decide_exhaustively(old: Evaluator, new: Evaluator, event_id: int, *, ignore_rule_names: bool,
                        solves: int = SOLVES, events: int = EVENTS, deadline: float | None = None) -> Outcome:
    """A witness for ``event_id``, or a proof that none exists, or why neither was found."""
    event_type = newest(old.platform).events_by_id.get(event_id)
    names = event_type.field_names if event_type is not None else ()
    by_field: dict[int, list[Constraint]] = {}
    sources: dict[int, list[CFilter]] = {}
    expanded: list[CFilter] = []
    for evaluator in (old, new):
        for flt, _valid in _filters(evaluator, event_id):
            if flt.field_id >= len(names) or names[flt.field_id] == "RuleName":
                continue  # reads "-" while rules run, whatever the event says
            if "%" in flt.source.value and old.platform == "windows":
                expanded.append(flt)
            by_field.setdefault(flt.field_id, []).append(Constraint(flt.condition, flt.data))
            sources.setdefault(flt.field_id, []).append(flt)
    budget = [solves]
    regions: dict[int, Regions] = {}
    try:
        for fid in sorted(by_field, key=lambda f: len(by_field[f])):
            regions[fid] = cut(by_field[fid], old.platform, budget)
    except _Budget:
        fid = max(by_field, key=lambda f: len(by_field[f]))
        return Outcome(reason=f"solver budget: {len(by_field[fid])} filters on {names[fid]} "
                       f"({solves} solver calls)", filters=tuple(sources[fid][:4]))
    fields = sorted(regions)
    total = 1
    for fid in fields:
        total *= max(1, len(regions[fid].values))
    if total > events:
        widest = max(fields, key=lambda f: len(regions[f].values))
        return Outcome(reason=f"search budget: {total} combinations of field values "
                       f"({len(regions[widest].values)} on {names[widest]})",
                       filters=tuple(sources[widest][:4]))

    def differs(event: Event) -> bool:
        return differ(old.decide(event), new.decide(event), ignore_rule_names=ignore_rule_names)

    for k, combination in enumerate(itertools.product(*(regions[f].values for f in fields))):
        if deadline is not None and k % 512 == 0 and time.monotonic() > deadline:
            return Outcome(reason="time budget", filters=())
        event = Event(event_id, {names[f]: v for f, v in zip(fields, combination, strict=True) if v != "-"})
        if differs(event):
            event = minimal(event, differs)
            return Outcome(witness=Witness(event, (old.decide(event), new.decide(event))))
    gap = next(((f, g) for f in fields for g in regions[f].gaps), None)
    if gap is not None:
        fid, constraints = gap
        text = " and ".join(f"`{c}`" for c in constraints[-2:])
        return Outcome(reason=f"{text} on {names[fid]}: the solver can neither find a value nor rule it out",
                       filters=tuple(f for f in sources[fid] if Constraint(f.condition, f.data) in
                                     {c if not c.negated else c.negate() for c in constraints[-2:]})[:4])
    if expanded:
        return Outcome(reason="%VARIABLE% data: decided for this session's environment only",
                       filters=tuple(expanded[:4]))
    return Outcome(proven=True)


Check = Callable[[Event], bool]

__all__ = ["EVENTS", "SOLVES", "Outcome", "Regions", "cut", "decide_exhaustively"]
