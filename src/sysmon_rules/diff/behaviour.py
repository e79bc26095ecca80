"""The behavioural pass: for each structural change, a witness event or a proof that it is inert.

A change's witness is searched along the walk paths through the changed set and filter, on the
side(s) where they exist (``witness.distinguish`` with ``only=``), for each event id the set's
slot serves; it is kept only when the two evaluators decide it differently. Without a witness
a change is "none" when a proof applies — the event ids it touches have equal normal forms
(``normal.same_plan``), a move inside an OR set crosses only filters it cannot match together
with or that report the same name, a filter equal to an earlier one of its OR set (which it can
never outrun) — and "unknown" otherwise.
"""

from __future__ import annotations

from ..engine import Evaluator
from ..engine.compiled import CFilter, CGroup, CSet
from ..ruletable import COMBINE_OR
from ..witness import Constraint, Target, disjoint, distinguish
from .normal import filter_form, same_plan
from .structure import BEHAVIOUR, NONE, Change

_ITEM_TARGETS = 40  # per set-level change: paths through this many items of the set


def _position(evaluator: Evaluator, event_id: int, set_index: int) -> tuple[int, CSet] | None:
    for k, cset in enumerate(evaluator.plan(event_id).sets):
        if cset.rank == set_index:
            return k, cset
    return None


def _item_of(cset: CSet, filter_index: int) -> int:
    for j, item in enumerate(cset.items):
        members = item.filters if isinstance(item, CGroup) else (item,)
        if any(f.position == filter_index for f in members):
            return j
    return 0


def _targets(evaluator: Evaluator, event_id: int, set_index: int | None, filter_index: int | None) -> list[Target]:
    if set_index is None:
        return []
    found = _position(evaluator, event_id, set_index)
    if found is None:
        return []
    k, cset = found
    if cset.combine != COMBINE_OR:
        return [Target(k, None)] if filter_index is not None else [Target(k, None), Target(None)]
    if filter_index is not None:
        return [Target(k, _item_of(cset, filter_index))]
    # A whole set: paths through its items, and "no set matches" (its presence changes the default).
    return [Target(k, j) for j in range(min(len(cset.items), _ITEM_TARGETS))] + [Target(None)]


def event_ids_of(evaluator: Evaluator, event_id: int) -> list[int]:
    """The event ids a set of ``event_id`` decides: its own first, then the rest of its slot."""
    return [event_id, *(e for e in evaluator.sharing_sets_with(event_id) if e != event_id)]


def find_witness(change: Change, old: Evaluator, new: Evaluator, *, ignore_rule_names: bool) -> bool:
    """Search a witness for ``change``; True when one was found (and stored on the change)."""
    set_level = change.kind.startswith("set-")
    for event_id in event_ids_of(old, change.event_id):
        only: list[tuple[int, Target]] = []
        for side, (evaluator, set_index, filter_index) in enumerate(
                ((old, change.old_set, change.old_filter), (new, change.new_set, change.new_filter))):
            if set_level or filter_index is not None:  # a filter change: paths through that filter only
                only += [(side, t) for t in _targets(evaluator, event_id, set_index, None if set_level
                                                     else filter_index)]
        if not only:
            continue
        witness = distinguish(old, new, event_id, ignore_rule_names=ignore_rule_names, only=only)
        if witness is not None:
            change.witness, change.effect = witness, BEHAVIOUR
            return True
    return False


def prove_inert(change: Change, old: Evaluator, new: Evaluator, *, ignore_rule_names: bool) -> bool:
    """Store a proof on ``change`` that it alone cannot alter a decision or RuleName, if one applies."""
    ids = event_ids_of(old, change.event_id)
    if all(same_plan(old, new, e, names=not ignore_rule_names) for e in ids):
        change.effect, change.proof = NONE, "every event id it touches has the same normal form on both sides"
        return True
    if change.kind == "filter-renamed" and ignore_rule_names:
        change.effect, change.proof = NONE, "RuleNames are ignored"
        return True
    proof = _local_proof(change, old, new, ignore_rule_names=ignore_rule_names)
    if proof:
        change.effect, change.proof = NONE, proof
        return True
    return False


def _local_proof(change: Change, old: Evaluator, new: Evaluator, *, ignore_rule_names: bool) -> str:
    side, set_index, filter_index = (new, change.new_set, change.new_filter) if change.kind == "filter-added" \
        else (old, change.old_set, change.old_filter)
    if set_index is None or filter_index is None:
        return ""
    found = _position(side, change.event_id, set_index)
    if found is None or found[1].combine != COMBINE_OR:
        return ""
    k, cset = found
    valid = side.plan(change.event_id).valid[k]
    top = [i for i in cset.items if isinstance(i, CFilter)]
    me = next((f for f in top if f.position == filter_index), None)
    if me is None:
        return ""
    earlier = top[: top.index(me)]
    key = filter_form(me, valid, side.platform, names=False)
    if change.kind in ("filter-added", "filter-removed") and \
            any(filter_form(f, valid, side.platform, names=False) == key for f in earlier):
        return "an equal filter comes earlier in the same OR set, so this one never matches first"
    if change.kind == "filter-moved":
        return _move_proof(me, cset, change, old, new, ignore_rule_names=ignore_rule_names)
    return ""


def _move_proof(me: CFilter, cset: CSet, change: Change, old: Evaluator, new: Evaluator, *,
                ignore_rule_names: bool) -> str:
    plain = all(isinstance(i, CFilter) and i.test is not None for i in cset.items)
    if not plain:
        return ""
    if ignore_rule_names:
        return "an OR set of plain filters matches the same events in any order"
    if "%" in me.source.value:
        return ""  # an expanded value depends on the session
    others = [i for i in cset.items if isinstance(i, CFilter) and i is not me]
    platform = old.platform
    for other in others:
        if other.name == me.name:
            continue
        if other.field_id == me.field_id and disjoint(Constraint(me.condition, me.data),
                                                      Constraint(other.condition, other.data), platform):
            continue
        return ""
    return "no event matches it together with a filter of another name in its OR set"


__all__ = ["event_ids_of", "find_witness", "prove_inert"]
