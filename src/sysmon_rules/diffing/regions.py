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
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..engine import Evaluator
from ..engine.compiled import CFilter, CGroup
from ..engine.conditions import (
    BEGIN_WITH,
    CONTAINS,
    CONTAINS_ALL,
    CONTAINS_ANY,
    END_WITH,
    IMAGE,
    IS,
    IS_ANY,
    LESS_THAN,
    MORE_THAN,
    fold,
    list_needles,
    list_tokens,
    ordering_key,
)
from ..engine.cover import covers
from ..events import Event
from ..ruletable import RuleFilter
from ..schema import newest
from ..schema.model import Platform
from ..witness import Constraint, Witness, differ, solve_field
from ..witness.events import minimal
from ..witness.solve import FOUND, IMPOSSIBLE

SOLVES = 4000  # solver calls for one event id's regions
EVENTS = 20000  # events decided (by each evaluator) for one event id
_SHOWN = 4  # conditions of a gap named in its reason
_ALPHABET = 12  # characters of the short strings tried when the solver finds no value


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
    plat: Platform = "linux" if platform == "linux" else "windows"
    constraints = list(dict.fromkeys(constraints))
    pool: list[str] | None = None
    start = solve_field([], plat)
    regions: list[tuple[tuple[Constraint, ...], str]] = [((), start.value or "x")]
    gaps: list[tuple[Constraint, ...]] = []
    for constraint in constraints:
        test = constraint.test(plat)
        split: list[tuple[tuple[Constraint, ...], str]] = []
        for known, value in regions:
            holds = test(value)
            split.append(((*known, constraint if holds else constraint.negate()), value))
            other = (*known, constraint.negate() if holds else constraint)
            budget[0] -= 1
            if budget[0] < 0:
                raise _Budget
            found = solve_field(other, plat) if not _contradicts(other, plat) else None
            if found is None:
                continue
            if found.status == FOUND and found.value is not None and fold(found.value) == found.value:
                split.append((other, found.value))
            elif found.status != IMPOSSIBLE:
                # The solver's shapes found nothing: try values built from every rule string.
                pool = pool if pool is not None else _pool(constraints)
                tests = [c.test(plat) for c in other]
                filler = next((v for v in pool if all(t(v) for t in tests)), None)
                if filler is not None:
                    split.append((other, filler))
                else:
                    gaps.append(other)
        regions = split
        # A gap stays a gap when cut further: keep the shortest reason.
    return Regions([v for _, v in regions], gaps)


def _plain(c: Constraint) -> list[tuple[int, str, bool]]:
    """``(condition, data, wanted)`` in plain conditions: the same values for a refused one; for a
    wanted one, conditions every value it allows also meets (so a contradiction still proves)."""
    condition, wanted = c.canonical()
    data = c.data
    if condition in (CONTAINS_ANY, CONTAINS_ALL):
        needles = sorted(set(list_needles(data, every=condition == CONTAINS_ALL)))
        if condition == CONTAINS_ALL:  # every value (never empty) contains ""
            needles = [n for n in needles if n] or [""]
        if len(needles) == 1 or (wanted and condition == CONTAINS_ALL):
            return [(CONTAINS, n, wanted) for n in needles]
    elif condition == IS_ANY and len(list_tokens(data)) == 1:
        condition = IS
    elif condition == IMAGE and wanted and "\\" not in data:
        return [(END_WITH, data, True)]  # the file name is the value's end
    return [(condition, data, wanted)]


def _contradicts(constraints: tuple[Constraint, ...], platform: str) -> bool:
    """Proven: a wanted condition that a refused one covers (the lint relation) leaves no value."""
    plain = [p for c in constraints for p in _plain(c)]
    lows, highs = _bounds(constraints, platform)
    if _no_room(lows, highs):
        return True
    prefix = _shared_prefix(lows, highs, platform)
    if prefix:
        plain.append((BEGIN_WITH, prefix, True))
    wanted = [RuleFilter(0, cond, data) for cond, data, w in plain if w]
    refused = [RuleFilter(0, cond, data) for cond, data, w in plain if not w]
    if any(covers(r, w) for r in refused for w in wanted):
        return True
    for cond, data, w in plain:  # refused "contains all": each needle forced by a wanted condition
        if not w and cond == CONTAINS_ALL:
            needles = [n for n in list_needles(data, every=True) if n]
            if needles and all(any(covers(RuleFilter(0, CONTAINS, n), x) for x in wanted) for n in needles):
                return True
    return False


def _bounds(constraints: tuple[Constraint, ...], platform: str
            ) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Lower and upper bounds ``(key, strict)`` on the key ``less than`` compares (ASCII data
    only); a wanted prefix P bounds the key to [key(P), key(P) with its last character raised)."""
    plat: Platform = "linux" if platform == "linux" else "windows"
    lows: list[tuple[str, bool]] = []
    highs: list[tuple[str, bool]] = []
    for c in constraints:
        if not c.data.isascii() or not c.data:
            continue
        key = str(ordering_key(c.data, plat))
        condition, wanted = c.canonical()
        if condition == LESS_THAN:
            (highs if wanted else lows).append((key, wanted))
        elif condition == MORE_THAN:
            (lows if wanted else highs).append((key, wanted))
        elif condition == BEGIN_WITH and wanted and ord(key[-1]) < 0x7F:
            lows.append((key, False))
            highs.append((key[:-1] + chr(ord(key[-1]) + 1), True))
    return lows, highs


def _no_room(lows: list[tuple[str, bool]], highs: list[tuple[str, bool]]) -> bool:
    """Proven: some lower bound is above some upper bound."""
    return any(low > high or (low == high and (strict_low or strict_high))
               for low, strict_low in lows for high, strict_high in highs)


def _shared_prefix(lows: list[tuple[str, bool]], highs: list[tuple[str, bool]], platform: str) -> str:
    """Every value between the bounds begins with their common prefix (Windows keys are the values)."""
    if platform == "linux" or not lows or not highs:
        return ""
    low, high = max(lows)[0], min(highs)[0]
    n = next((i for i, (x, y) in enumerate(zip(low, high, strict=False)) if x != y), min(len(low), len(high)))
    return low[:n]


def _pool(constraints: list[Constraint]) -> list[str]:
    """Values around every rule string (and its list tokens): itself, cut, extended, next to another."""
    words = sorted({w for c in constraints for w in (c.data, *c.data.split(";")) if w})
    pool: dict[str, None] = dict.fromkeys(["x", "-", "0", "~", "!", "\\"])
    for w in words:
        pool.update(dict.fromkeys([w, w + "x", "x" + w, "x" + w + "x", w + "\\", "\\" + w, w + "0", w + "~",
                                   w[:-1], w[1:], w[:-1] + chr(ord(w[-1]) + 1), w[:-1] + chr(max(33, ord(w[-1]) - 1)),
                                   w + w]))
    for a in words[:24]:
        for b in words[:24]:
            pool.update(dict.fromkeys([a + b, a + "x" + b, a + "\\" + b]))
    # Every short string over the rules' own characters (and one other).
    alphabet = sorted({ch for w in words for ch in w} | {"x", "\\"})[:_ALPHABET]
    for n in (1, 2, 3):
        pool.update(dict.fromkeys("".join(p) for p in itertools.product(alphabet, repeat=n)))
    # Only values an event can carry as the evaluator reads them (folded, no NUL): a region's
    # value must stand for what the evaluator tests.
    return [v for v in pool if v and "\0" not in v and fold(v) == v]


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
        text = " and ".join(f"`{c}`" for c in constraints[-_SHOWN:])
        return Outcome(reason=f"{text} on {names[fid]}: the solver can neither find a value nor rule it out",
                       filters=tuple(f for f in sources[fid] if Constraint(f.condition, f.data) in
                                     {c if not c.negated else c.negate() for c in constraints[-_SHOWN:]})[:4])
    if expanded:
        return Outcome(reason="%VARIABLE% data: decided for this session's environment only",
                       filters=tuple(expanded[:4]))
    return Outcome(proven=True)


__all__ = ["EVENTS", "SOLVES", "Outcome", "Regions", "cut", "decide_exhaustively"]
