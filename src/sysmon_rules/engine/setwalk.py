"""Sysmon's set evaluation, step for step: ``MatchFilterGroup`` and ``CombineGroupDone``.

This walker is the exact one. The evaluator uses it for AND sets (and any set with an odd combine
type) and for every set when explaining; OR sets take the indexed shortcut in ``index``, which
reaches the same result and the same RuleName by only skipping filters that cannot match.

``valid`` is the set of field ids this event can resolve for this set: ids inside the event's
field table whose name there equals the name in the set's own event type (a RegistryEvent set
built for id 13 must not read id 14's field 7). Anything else gives NoMatch.
``name`` threads the RuleName: every individual match with a name replaces it, even in a set
that ends up not matching.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ..ruletable import COMBINE_AND, COMBINE_OR
from .compiled import CFilter, CGroup, CSet
from .conditions import FAILED, MATCH, NO_MATCH
from .decision import DROPPED, MATCH_REASON, ONE_SET_DEFAULTS, Decision

if TYPE_CHECKING:
    from .index import Hit, Plan

# (filter, status or None when skipped, value tested) -> None; used only by explain().
Recorder = Callable[[CFilter, int | None, str | None], None]
Result = tuple[int, str | None]


def check_filter(flt: CFilter, values: Mapping[int, str], valid: frozenset[int]) -> int:
    """One filter's MatchStatus against the folded event values."""
    if flt.field_id not in valid or flt.dead:
        return NO_MATCH
    if flt.test is None:
        return FAILED
    return MATCH if flt.test(values[flt.field_id]) else NO_MATCH


def walk_group(group: CGroup, values: Mapping[int, str], valid: frozenset[int], name: str | None,
               record: Recorder | None = None) -> Result:
    """A <Rule> sub-group: its own combine type, no same-field rescue, no skipping."""
    combine = group.combine
    for flt in group.filters:
        status = check_filter(flt, values, valid)
        if record is not None:
            record(flt, status, values.get(flt.field_id))
        if status == MATCH:
            name = flt.name or name
            if combine == COMBINE_OR:
                return MATCH, name
        elif status == NO_MATCH:
            if combine == COMBINE_AND:
                return NO_MATCH, name
        else:
            return FAILED, name
    return (MATCH if combine == COMBINE_AND else NO_MATCH), name


def walk_set(cset: CSet, values: Mapping[int, str], valid: frozenset[int], name: str | None,
             record: Recorder | None = None) -> Result:
    """A whole rule set, top level: sub-groups count as one item each.

    In an AND set a NoMatch is final unless a later top-level filter tests the same field id,
    and once a field id has matched its later top-level filters are skipped.
    """
    if not cset.items:
        return NO_MATCH, name
    combine = cset.combine
    matched = 0  # bit per field id that matched at top level
    for item, rescued in zip(cset.items, cset.rescue, strict=True):
        if isinstance(item, CGroup):
            status, name = walk_group(item, values, valid, name, record)
        else:
            field_id = item.field_id
            if field_id in valid and matched >> field_id & 1:
                if record is not None:
                    record(item, None, values.get(field_id))
                continue
            status = check_filter(item, values, valid)
            if record is not None:
                record(item, status, values.get(field_id))
            if status == MATCH:
                name = item.name or name
                matched |= 1 << field_id
        if status == MATCH:
            if combine == COMBINE_OR:
                return MATCH, name
        elif status == NO_MATCH:
            if combine == COMBINE_AND and not rescued:
                return NO_MATCH, name
        else:
            return FAILED, name
    return (MATCH if combine == COMBINE_AND else NO_MATCH), name


def walk_candidates(cset: CSet, candidates: list[int], values: Mapping[int, str], valid: frozenset[int],
                    name: str | None) -> Result:
    """An OR set through its candidate items (ascending): every other item is a silent NoMatch."""
    items = cset.items
    last = -1
    for index in candidates:
        if index == last:
            continue
        last = index
        item = items[index]
        if isinstance(item, CGroup):
            status, name = walk_group(item, values, valid, name)
        else:
            status = check_filter(item, values, valid)
            if status == MATCH:
                return MATCH, item.name or name
        if status != NO_MATCH:
            return status, name
    return NO_MATCH, name


def decide_plan(plan: Plan, values: Mapping[int, str], hits: list[Hit]) -> Decision:
    """The decision for an event of a plan with sets, from its folded ``values`` (every field id
    the plan reads) and its sorted candidate ``hits`` (``plan.always`` and every indexed filter
    its values may match): OR sets through their candidates, the others walked in full."""
    sets = plan.sets
    name: str | None = None
    cursor = 0
    for k, cset in enumerate(sets):
        if plan.indexed[k]:
            start = cursor
            while cursor < len(hits) and hits[cursor][0] == k:
                cursor += 1
            status, name = walk_candidates(cset, [h[1] for h in hits[start:cursor]], values, plan.valid[k], name)
        else:
            status, name = walk_set(cset, values, plan.valid[k], name)
        if status == MATCH:
            # Decisions are immutable and few (one per set and name): reuse them.
            decision = plan.decisions.get((k, name))
            if decision is None:
                decision = plan.decisions[k, name] = Decision(
                    cset.on_match, name, MATCH_REASON, cset.rule_set, set_index=cset.rank)
            return decision
    if len(sets) == 1:
        return ONE_SET_DEFAULTS[sets[0].on_default]
    return DROPPED
