"""What an event must satisfy to take one path through an evaluator's rule sets.

A *target* names a place where the walk of one event id stops: "set k matches through item i" or
"no set matches". Reaching it is a list of *obligations*, each a choice between alternatives
(an alternative is a list of per-field constraints, or None when it cannot hold): earlier sets
must not match, earlier items of set k must not match, the target item must match. These are
Sysmon's walk rules read backwards (``engine.walk``): an OR set stops at its first match, an AND
set needs every item, where top-level filters on the same field count as one alternative (the
same-field rescue), a sub-group uses its own combine type.

Paths are a guide only: every event built from one is re-decided by the evaluator.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..engine.compiled import CFilter, CGroup, CSet, Item
from ..ruletable import COMBINE_AND, COMBINE_OR
from .literals import Constraint

Clause = tuple[tuple[int, Constraint], ...]  # (field id, constraint) that must all hold
Alternatives = tuple[Clause | None, ...]  # one of them must hold (None: cannot hold)
_MAX_ALTERNATIVES = 16


@dataclass(frozen=True, slots=True)
class Target:
    """Where the walk ends: ``position`` in evaluation order and ``item`` of that set matching.

    In an AND set ``item`` (optional) is a top-level filter that should match first on its field
    (so its RuleName is the one reported). ``position=None`` is "no set matches" (the event then
    gets the default decision).
    """

    position: int | None
    item: int | None = None
    # Only "this item matches", whatever the rest of the walk does: a filter's RuleName survives
    # in a set that then fails, and is reported if a later set matches.
    alone: bool = False


def _literal(flt: CFilter, valid: frozenset[int], wanted: bool) -> Clause | None:
    """A filter matching (or not): None if it can never match and it is wanted."""
    usable = flt.field_id in valid and not flt.dead and flt.test is not None
    if not usable:
        # Never a match: wanting it is hopeless, refusing it is free. (A Failed test also ends the
        # walk; the evaluator's re-check catches what that changes.)
        return None if wanted else ()
    return ((flt.field_id, Constraint(flt.condition, flt.data, not wanted)),)


def _join(clauses: list[Clause | None]) -> Clause | None:
    if any(c is None for c in clauses):
        return None
    return tuple(pair for c in clauses if c is not None for pair in c)


def item_matches(item: Item, valid: frozenset[int]) -> Alternatives:
    """The ways one item (a filter or a ``<Rule>`` group) can match."""
    if isinstance(item, CFilter):
        return (_literal(item, valid, True),)
    if item.combine == COMBINE_AND:
        return (_join([_literal(f, valid, True) for f in item.filters]),)
    return tuple(_literal(f, valid, True) for f in item.filters[:_MAX_ALTERNATIVES])


def item_misses(item: Item, valid: frozenset[int]) -> Alternatives:
    """The ways one item can fail to match."""
    if isinstance(item, CFilter):
        return (_literal(item, valid, False),)
    if item.combine == COMBINE_AND:
        return tuple(_literal(f, valid, False) for f in item.filters[:_MAX_ALTERNATIVES])
    return (_join([_literal(f, valid, False) for f in item.filters]),)


def _field_runs(cset: CSet) -> tuple[dict[int, list[CFilter]], list[CGroup]]:
    """Top-level filters by field id (one same-field run needs one match) and the groups."""
    runs: dict[int, list[CFilter]] = {}
    groups: list[CGroup] = []
    for item in cset.items:
        if isinstance(item, CGroup):
            groups.append(item)
        else:
            runs.setdefault(item.field_id, []).append(item)
    return runs, groups


def set_matches(cset: CSet, valid: frozenset[int], item: int | None = None) -> list[Alternatives]:
    """Obligations for ``cset`` to match (through ``item`` when given, for an OR set)."""
    if not cset.items:
        return [(None,)]
    if cset.combine == COMBINE_OR:
        chosen = [item] if item is not None else range(len(cset.items))
        if item is None:
            return [tuple(alt for i in chosen for alt in item_matches(cset.items[i], valid))[:_MAX_ALTERNATIVES]]
        return [item_misses(cset.items[i], valid) for i in range(item)] + [item_matches(cset.items[item], valid)]
    if cset.combine != COMBINE_AND:
        return [(None,)]
    runs, groups = _field_runs(cset)
    wanted = cset.items[item] if item is not None else None
    obligations: list[Alternatives] = []
    for run in runs.values():
        # The run's first matching filter decides its RuleName: each way is "this one matches,
        # the ones before it do not" (the wanted filter's way first).
        ways = [_join([_literal(f, valid, True)] + [_literal(e, valid, False) for e in run[:i]])
                for i, f in enumerate(run[:_MAX_ALTERNATIVES])]
        order = sorted(range(len(ways)), key=lambda i: run[i] is not wanted)
        obligations.append(tuple(ways[i] for i in order))
    obligations += [item_matches(g, valid) for g in groups]
    return obligations


def set_misses(cset: CSet, valid: frozenset[int]) -> list[Alternatives]:
    """Obligations for ``cset`` not to match."""
    if not cset.items:
        return []
    if cset.combine == COMBINE_OR:
        return [item_misses(item, valid) for item in cset.items]
    runs, groups = _field_runs(cset)
    ways: list[Clause | None] = [_join([_literal(f, valid, False) for f in run]) for run in runs.values()]
    for group in groups:
        ways += list(item_misses(group, valid))
    return [tuple(ways[:_MAX_ALTERNATIVES])] if cset.combine == COMBINE_AND else []


def reached_and_matched(cset: CSet, valid: frozenset[int], item: int) -> list[Alternatives]:
    """Item ``item`` of ``cset`` is tried and matches, whatever the set then does.

    In an AND set the walk reaches it when every earlier item matched or was rescued (a later
    top-level filter has its field) and no earlier filter of its own field matched (that would
    skip it).
    """
    target = cset.items[item]
    needs = [item_matches(target, valid)]
    if cset.combine != COMBINE_AND:
        return needs
    for j, earlier in enumerate(cset.items[:item]):
        if isinstance(earlier, CFilter) and isinstance(target, CFilter) and earlier.field_id == target.field_id:
            needs.append(item_misses(earlier, valid))
        elif isinstance(earlier, CGroup) or not cset.rescue[j]:
            needs.append(item_matches(earlier, valid))
    return needs


def obligations(sets: tuple[CSet, ...], valid: tuple[frozenset[int], ...], target: Target) -> list[Alternatives]:
    """Everything an event must satisfy to end its walk at ``target``."""
    if target.alone and target.position is not None and target.item is not None:
        return reached_and_matched(sets[target.position], valid[target.position], target.item)
    stop = len(sets) if target.position is None else target.position
    found: list[Alternatives] = []
    for k in range(stop):
        found += set_misses(sets[k], valid[k])
    if target.position is not None:
        found += set_matches(sets[target.position], valid[target.position], target.item)
    return found


def targets(sets: tuple[CSet, ...]) -> Iterator[Target]:
    """Every place a walk can end: no match first, then each item of each set in evaluation order."""
    yield Target(None)
    for k, cset in enumerate(sets):
        if cset.combine == COMBINE_AND:
            yield Target(k, None)
        for i in range(len(cset.items)):
            if cset.combine == COMBINE_OR:
                yield Target(k, i)


__all__ = ["Alternatives", "Clause", "Target", "obligations", "set_matches", "set_misses", "targets"]
