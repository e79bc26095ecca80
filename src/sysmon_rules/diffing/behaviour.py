"""The behavioural pass: for each structural change, a witness event or a proof that it is inert.

A change's witness is searched along the walk paths through the changed set and filter, on the
side(s) where they exist (``witness.distinguish`` with ``only=``), for each event id the set's
slot serves; it is kept only when the two evaluators decide it differently and the old config
with only this change applied (``isolate``) does too, so another change is not the cause. Without a witness
a change is "none" when a proof applies — the event ids it touches have equal normal forms
(``normal.same_plan``), a move inside an OR set crosses only filters it cannot match together
with or that report the same name, a filter equal to an earlier one of its OR set (which it can
never outrun) — and "unknown" otherwise.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterator, Mapping

from ..engine import Evaluator
from ..engine.compiled import CFilter, CGroup, CSet
from ..events import Event
from ..ruletable import COMBINE_AND, COMBINE_OR, RuleSet
from ..witness import Constraint, Target, Witness, disjoint, distinguish, distinguish_along
from ..witness.events import minimal
from .attribution import Charger
from .decide import Decider, constraints_of, field_names_of, solve_event
from .flat import Entry, Flat, parts
from .isolate import Outcome, hybrid
from .normal import filter_form, same_plan
from .structure import BEHAVIOUR, NONE, Change, filter_key

_ITEM_TARGETS = 40  # per set-level change: paths through this many items of the set
_QUICK_EVENTS = 48  # events built from one change's own filters, per side and event id


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
    if filter_index is not None:
        item = _item_of(cset, filter_index)
        # The set matching through this filter (in an AND set: first on its field), or just the
        # filter matching (its RuleName outlives a set that fails, when a later set matches).
        return [Target(k, item), Target(k, item, alone=True)]
    if cset.combine != COMBINE_OR:
        return [Target(k, None), Target(None)]
    # A whole set: paths through its items, and "no set matches" (its presence changes the default).
    return [Target(k, j) for j in range(min(len(cset.items), _ITEM_TARGETS))] + [Target(None)]


def _pairs(evaluator: Evaluator, event_id: int, change: Change) -> list[list[tuple[int, Target]]]:
    """Paths on the old side where the moved filter and another item of its set both match."""
    found = _position(evaluator, event_id, change.old_set) if change.old_set is not None else None
    if found is None or change.old_filter is None:
        return []
    k, cset = found
    mine = _item_of(cset, change.old_filter)
    others = [j for j in range(len(cset.items)) if j != mine][:_ITEM_TARGETS]
    return [[(0, Target(k, min(mine, j))), (0, Target(k, max(mine, j), alone=True))] for j in others]


def _crossed(evaluator: Evaluator, event_id: int, set_index: int | None, side: int) -> list[tuple[int, Target]]:
    found = _position(evaluator, event_id, set_index) if set_index is not None else None
    if found is None:
        return []
    k, cset = found
    return [(side, Target(k, j, alone=True)) for j in range(min(len(cset.items), _ITEM_TARGETS // 4))]


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
        if change.kind == "filter-moved":  # the filters it crossed matter as much as itself
            only += _crossed(old, event_id, change.old_set, 0) + _crossed(new, event_id, change.new_set, 1)
        if not only:
            continue
        alone = hybrid(change, old, new, event_id)

        def caused(event: Event, alone: Callable[[Event], Outcome] | None = alone) -> bool:
            if alone is None:
                return True
            before, after = old.decide(event), alone(event)
            return before.decision != after[0] or (not ignore_rule_names and before.rule_name != after[1])

        witness = distinguish(old, new, event_id, ignore_rule_names=ignore_rule_names, only=only, require=caused)
        if witness is None and change.kind == "filter-moved":  # it and a filter it crossed, both matching
            witness = distinguish_along(old, new, event_id, _pairs(old, event_id, change), require=caused,
                                        ignore_rule_names=ignore_rule_names)
        if witness is not None:
            change.witness, change.effect = witness, BEHAVIOUR
            return True
    return False


def prove_inert(change: Change, old: Evaluator, new: Evaluator, *, ignore_rule_names: bool,
                plans_differ: bool = False) -> bool:
    """Store a proof on ``change`` that it alone cannot alter a decision or RuleName, if one applies
    (``plans_differ``: the normal forms of its event ids are known to differ)."""
    ids = event_ids_of(old, change.event_id)
    if not plans_differ and all(same_plan(old, new, e, names=not ignore_rule_names) for e in ids):
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
    if found is None:
        return ""
    k, cset = found
    if change.kind == "filter-moved":
        return _move_proof(cset.items[_item_of(cset, filter_index)], cset, change, old, new,  # type: ignore[arg-type]
                           ignore_rule_names=ignore_rule_names) if cset.combine in (COMBINE_OR, COMBINE_AND) else ""
    if cset.combine != COMBINE_OR:
        return ""
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
    return ""


def _move_proof(me: CFilter, cset: CSet, change: Change, old: Evaluator, new: Evaluator, *,
                ignore_rule_names: bool) -> str:
    """A move that cannot change the first match of a run, nor which name is reported last.

    Crossing a filter of the same field is harmless when no value matches both or both report
    the same name; crossing one of another field is harmless in an OR set when the names are
    equal, and in an AND set only when neither has a name (a failing AND set keeps the names
    matched before the failure).
    """
    if not all(isinstance(i, CFilter) and i.test is not None for i in cset.items):
        return ""
    if ignore_rule_names:
        return "a set of plain filters decides the same events in any order"
    if change.old_set is None or change.new_set is None or "%" in me.source.value:
        return ""  # (an expanded value depends on the session)
    before = _order(old.table.rule_sets[change.old_set])
    after = _order(new.table.rule_sets[change.new_set])
    if before[me.position] not in after:
        return ""
    mine = before[me.position]
    for other in cset.items:
        assert isinstance(other, CFilter)
        theirs = before[other.position]
        if other is me or theirs not in after:  # (a filter added or removed is a change of its own)
            continue
        if (other.position < me.position) == (after.index(theirs) < after.index(mine)):
            continue
        if not _harmless_crossing(me, other, cset.combine == COMBINE_OR, old):
            return ""
    return "every filter it crossed can never match together with it, or reports the same name"


def _order(rule_set: RuleSet) -> list[tuple[Hashable, str, int]]:
    """Each filter as (what it tests, its name, which occurrence of the two): unique per set."""
    seen: dict[tuple[Hashable, str], int] = {}
    keys = []
    for f in rule_set.filters:
        key = (filter_key(rule_set, f), f.name)
        seen[key] = seen.get(key, 0) + 1
        keys.append((*key, seen[key]))
    return keys


def _harmless_crossing(me: CFilter, other: CFilter, in_or: bool, evaluator: Evaluator) -> bool:
    if other.field_id == me.field_id:
        return other.name == me.name or ("%" not in other.source.value and disjoint(
            Constraint(me.condition, me.data), Constraint(other.condition, other.data), evaluator.platform))
    return other.name == me.name if in_or else not other.name and not me.name


__all__ = ["event_ids_of", "find_witness", "prove_inert", "quick_witness"]


def quick_witness(change: Change, decider: Decider, charge: Charger, proven: frozenset[int] = frozenset(),
                  known: Mapping[int, Witness] | None = None) -> bool:
    """A witness for ``change`` from its own filters: events matching the entry it changed, and
    those with each filter of the other side's version of its set refused in turn; kept when the
    evaluators decide it differently and the old config plus only this change does too. Event
    ids in ``proven`` (decided alike) are skipped. ``known``: an event id's own witness, given
    (as one of a rewrite spread over several changes) when nothing else was found."""
    old, new = decider.old, decider.new
    together: Event | None = None  # decided differently once the whole set changed, not by this alone
    seen: set[tuple[str, ...]] = set()
    for event_id in event_ids_of(old, change.event_id):
        if event_id in proven:  # decided alike there: no witness to find
            continue
        field_names = field_names_of(event_id, old.platform)
        whole = _whole_set(change, old, new, event_id)
        for side, set_index, filter_index in ((0, change.old_set, change.old_filter),
                                              (1, change.new_set, change.new_filter)):
            mine, theirs = decider.flat(side, event_id), decider.flat(1 - side, event_id)
            if set_index is None or mine is None or theirs is None:
                continue
            other_set = change.new_set if side == 0 else change.old_set
            events = _change_events(decider, event_id, change, (mine, theirs), (set_index, filter_index),
                                    other_set, field_names)
            for event in itertools.islice(events, _QUICK_EVENTS):
                key = (str(event_id), *sorted(f"{k}={v}" for k, v in event.fields.items()))
                if key in seen:
                    continue
                seen.add(key)
                if not decider.differs(event):
                    continue
                if _caused(change, event, decider, charge):
                    event = minimal(event, lambda e: decider.differs(e) and _caused(change, e, decider, charge))
                    change.witness = Witness(event, (old.decide(event), new.decide(event)))
                    change.effect = BEHAVIOUR
                    return True
                if together is None and whole is not None and \
                        _outcome(whole(event), decider.names) != _outcome(_pair(old, event), decider.names):
                    together = event
        # The event id's witness (found by its own search) when no event of this change's own
        # filters showed it: it may still follow from this set's rewrite as a whole.
        w = (known or {}).get(event_id)
        if together is None and whole is not None and w is not None and \
                _outcome(whole(w.event), decider.names) != _outcome(_pair(old, w.event), decider.names):
            together = w.event
    if together is None:
        return False
    # A rewrite spread over several changes of one set (a <Rule> split or merged): the witness
    # belongs to them together.
    siblings = [c.id for c in charge.changes.values() if c.id != change.id and
                (c.old_set, c.new_set) == (change.old_set, change.new_set)]
    change.witness = Witness(together, (old.decide(together), new.decide(together)))
    change.effect = BEHAVIOUR
    change.proof = "together with the other changes of its rule set" + \
        (f" ({', '.join(f'#{i}' for i in siblings[:8])})" if siblings else "") + \
        ": the old config with this rule set as the new one has it decides the witness differently"
    return True


def _pair(evaluator: Evaluator, event: Event) -> Outcome:
    d = evaluator.decide(event)
    return d.decision, d.rule_name


def _outcome(outcome: Outcome, names: bool) -> Outcome:
    return outcome if names else (outcome[0], None)


def _whole_set(change: Change, old: Evaluator, new: Evaluator, event_id: int
               ) -> Callable[[Event], Outcome] | None:
    """The old config with the change's rule set replaced by its new version (filter changes)."""
    if not change.kind.startswith("filter-") or change.old_set is None or change.new_set is None:
        return None
    whole = Change("set-replaced", change.event, change.event_id, change.onmatch, "", old_set=change.old_set,
                   new_set=change.new_set)
    return hybrid(whole, old, new, event_id)


def _caused(change: Change, event: Event, decider: Decider, charge: Charger) -> bool:
    before = decider.old.decide(event)
    if charge.alone_differs(change.id, event, before):
        return True
    # No alone-config for a move between sets: the two sets it joins must be the deciding ones.
    after = decider.new.decide(event)
    return change.kind == "filters-moved" and \
        (charge.old_sets.get(id(before.rule_set)), charge.new_sets.get(id(after.rule_set))) == \
        (change.old_set, change.new_set)


def _parts(entry: Entry) -> set[Hashable]:
    return set(parts(entry.atom))


def _change_events(decider: Decider, event_id: int, change: Change, flats: tuple[Flat, Flat],
                   place: tuple[int, int | None], other_set: int | None,
                   field_names: tuple[str, ...]) -> Iterator[Event]:
    mine, theirs = flats
    set_index, filter_index = place
    everything = (*mine.entries, *(e for e, _ in mine.dropped))
    chosen = [e for e in everything if e.rank == set_index and
              (filter_index is None or any(f.position == filter_index for f in e.filters))]
    partners = [e for e in (*theirs.entries, *(e for e, _ in theirs.dropped)) if e.rank == other_set]
    # The entries that share a filter with the changed one on the other side come first.
    other_filter = change.new_filter if set_index == change.old_set and place == (change.old_set, change.old_filter) \
        else change.old_filter
    anchor = {p for e in partners if any(f.position == other_filter for f in e.filters) for p in _parts(e)}
    chosen.sort(key=lambda e: not anchor & _parts(e))
    partners.sort(key=lambda e: not anchor & _parts(e) if filter_index is None else
                  not set(_parts(e)) & {p for c in chosen[:1] for p in _parts(c)})
    chosen = chosen[:_ITEM_TARGETS]
    for entry in chosen:
        yield from decider.entry_events(event_id, entry, mine, theirs, field_names)
        wanted = constraints_of(entry)
        if wanted is None:
            continue
        for partner in partners[:_ITEM_TARGETS]:
            for fid, refused in (constraints_of(partner) or {}).items():
                for constraint in refused:
                    needs = {f: list(cs) for f, cs in wanted.items()}
                    needs.setdefault(fid, []).append(constraint.negate())
                    event = solve_event(event_id, needs, field_names, decider.old.platform)
                    if event is not None:
                        yield event
