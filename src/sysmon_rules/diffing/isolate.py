"""One change alone: the old config with just that change applied, to attribute a witness.

A witness event for a change must be decided differently by old and new *and* by old and
"old plus this change only" — otherwise another change of the same event type is the cause.
The hybrid is built on the old evaluator's plan for one event id: the changed set is replaced
(a filter removed, added, edited, renamed or moved within it; or the whole set added, removed or
replaced), compiled as the evaluator compiles, and walked with the evaluator's exact walker
(``engine.trace.trace_event``), so no index is built per change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..engine import Evaluator
from ..engine.compiled import CSet, compile_set
from ..engine.index import Plan
from ..engine.trace import trace_event
from ..events import Event
from ..ruletable import RuleFilter, RuleSet
from ..schema import newest
from ..witness import event_value
from .structure import Change

Outcome = tuple[str, str | None]


def _edited(change: Change, a: RuleSet, b: RuleSet) -> RuleSet:
    """The old set with only this filter change applied (or the new set when that is unclear)."""
    filters = list(a.filters)
    x, y = change.old_filter, change.new_filter
    if change.kind == "filter-removed" and x is not None:
        del filters[x]
    elif change.kind == "filter-renamed" and x is not None and y is not None:
        filters[x] = replace(filters[x], name=b.filters[y].name)
    elif change.kind == "filter-moved" and x is not None and y is not None:
        filters.insert(y, filters.pop(x))
    elif change.kind in ("filter-added", "filter-changed") and y is not None:
        incoming = b.filters[y]
        if not _fits(incoming, a, b):
            return b
        if x is not None:
            filters[x] = incoming
        else:
            filters.insert(min(y, len(filters)), incoming)
        extra = b.aggregation(incoming.aggregation_id) if incoming.aggregation_id else None
        if extra is not None and a.aggregation(extra.id) is None:
            return replace(a, filters=tuple(filters), aggregations=(*a.aggregations, extra))
    else:
        return b
    return replace(a, filters=tuple(filters))


def _fits(flt: RuleFilter, a: RuleSet, b: RuleSet) -> bool:
    # The filter's <Rule> must mean the same in the old set (same id, same combine and name).
    if not flt.aggregation_id:
        return True
    mine, theirs = a.aggregation(flt.aggregation_id), b.aggregation(flt.aggregation_id)
    return mine is None or mine == theirs


def _compiled(evaluator: Evaluator, rule_set: RuleSet, rank: int) -> CSet:
    return compile_set(rule_set, rank, binary_version=evaluator.table.binary_version,
                       platform=evaluator.platform, environment=evaluator.environment)


def _hybrid_plan(change: Change, old: Evaluator, new: Evaluator, event_id: int) -> Plan | None:
    if change.kind == "filters-moved":
        return None  # filters leaving one set for another: two sets change at once
    plan = old.plan(event_id)
    sets, valid = list(plan.sets), list(plan.valid)
    k_old = next((k for k, s in enumerate(sets) if s.rank == change.old_set), None)
    new_plan = new.plan(event_id)
    k_new = next((k for k, s in enumerate(new_plan.sets) if s.rank == change.new_set), None)
    if change.kind.startswith("filter-"):
        if k_old is None or k_new is None:
            return None
        edited = _edited(change, sets[k_old].rule_set, new_plan.sets[k_new].rule_set)
        sets[k_old] = _compiled(old, edited, sets[k_old].rank)
        return replace(plan, sets=tuple(sets), valid=tuple(valid))
    if k_old is not None:
        del sets[k_old], valid[k_old]
    if k_new is not None:
        incoming = new_plan.sets[k_new]
        # Keep its place among the sets of its onmatch (evaluation order: exclude sets first).
        rank = sum(1 for s in new_plan.sets[:k_new] if s.on_match == incoming.on_match)
        same = [k for k, s in enumerate(sets) if s.on_match == incoming.on_match]
        at = same[rank] if rank < len(same) else (same[-1] + 1 if same else
                                                   (0 if incoming.on_match == "exclude" else len(sets)))
        sets.insert(at, incoming)
        valid.insert(at, new_plan.valid[k_new])
    return replace(plan, sets=tuple(sets), valid=tuple(valid))


def hybrid(change: Change, old: Evaluator, new: Evaluator, event_id: int) -> Callable[[Event], Outcome] | None:
    """How "old plus only ``change``" decides events of ``event_id`` (None: cannot be built)."""
    plan = _hybrid_plan(change, old, new, event_id)
    if plan is None:
        return None
    event_type = newest(old.platform).events_by_id.get(event_id)
    names = event_type.field_names if event_type is not None else ()

    def decide(event: Event) -> Outcome:
        values = {fid: "-" if name == "RuleName" else event_value(event.fields.get(name, ""))
                  for fid, name in enumerate(names)}
        decision = trace_event(event, plan, values, names)
        return decision.decision, decision.rule_name
    return decide


__all__ = ["hybrid"]
