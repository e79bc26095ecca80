"""Events built to take a chosen path through an evaluator, and checked by deciding them.

``find_event(evaluator, 1, accept)`` walks the targets of event id 1 ("no match", then each
item of each set in evaluation order), turns each into per-field constraints (``paths``), solves
each field (``solve``) and keeps the first event ``accept`` likes *after the evaluator decided
it*: a returned :class:`Witness` is never a guess. ``distinguish`` does the same for two
evaluators and keeps an event they decide differently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from ..engine import MATCH_REASON, Decision, Evaluator
from ..engine.index import Plan
from ..events import Event
from ..ruletable import RuleSet, RuleTable
from ..schema import newest
from .literals import Constraint, holds
from .paths import Alternatives, Clause, Target, obligations, targets
from .solve import FOUND, IMPOSSIBLE, FieldSolution, solve_field

# Bounds that keep one search small; raising them finds more, never wrong ones.
_SOLVES_PER_TARGET = 48
_EVENTS_PER_TARGET = 3
_State = dict[int, dict[Constraint, None]]  # per field id, its constraints (an ordered set)
_PARTNERS = 12  # paths of the other side combined with one path, when single paths show nothing
_ABSENT = "-"  # what the evaluator reads for a field that is absent (or RuleName, before a match)


@dataclass(frozen=True, slots=True)
class Witness:
    """An event and what each evaluator decided for it (re-checked, in the order given)."""

    event: Event
    decisions: tuple[Decision, ...]
    target: Target | None = None

    def to_dict(self) -> dict[str, object]:
        return {"EventID": self.event.event_id, "fields": dict(self.event.fields)}


@dataclass
class _Search:
    """One event id's constraint search, with memoised per-field solutions."""

    names: Mapping[int, str | None]  # field id -> event field name (None: always reads "-")
    platform: str
    extra: dict[int, list[Constraint]] = field(default_factory=dict)
    solves: int = 0
    cache: dict[tuple[Constraint, ...], FieldSolution] = field(default_factory=dict)

    def solve(self, constraints: list[Constraint], field_id: int) -> FieldSolution:
        key = tuple(constraints)
        found = self.cache.get(key)
        if found is None:
            self.solves += 1
            if self.names.get(field_id, "") is None:  # RuleName reads "-" while filters run
                ok = holds(constraints, _ABSENT, "linux" if self.platform == "linux" else "windows")
                found = FieldSolution(FOUND, _ABSENT) if ok else FieldSolution(IMPOSSIBLE, reason="reads '-'")
            else:
                found = solve_field(constraints, "linux" if self.platform == "linux" else "windows")
            self.cache[key] = found
        return found

    def events(self, needs: list[Alternatives], event_id: int, limit: int) -> Iterator[Event]:
        fixed, branching = _split(needs)
        if fixed is None:
            return
        state: _State = {fid: dict.fromkeys(cs) for fid, cs in self.extra.items()}
        _add(state, fixed)
        budget = self.solves + _SOLVES_PER_TARGET
        for produced, values in enumerate(self._dfs(state, branching, 0, budget), 1):
            yield Event.read(event_id, {self.names[fid] or "": v for fid, v in values.items()
                                        if self.names.get(fid) and v != _ABSENT})
            if produced >= limit:
                return

    def _dfs(self, state: _State, branching: list[Alternatives], depth: int,
             budget: int) -> Iterator[dict[int, str]]:
        if self.solves > budget:
            return
        if depth == len(branching):
            values = self._values(state)
            if values is not None:
                yield values
            return
        for clause in branching[depth]:
            if clause is None:
                continue
            trial = {fid: dict(cs) for fid, cs in state.items()}
            _add(trial, clause)
            if any(self.solve(list(trial[fid]), fid).status == IMPOSSIBLE for fid, _ in clause):
                continue
            yield from self._dfs(trial, branching, depth + 1, budget)

    def _values(self, state: _State) -> dict[int, str] | None:
        values: dict[int, str] = {}
        for fid, constraints in state.items():
            solution = self.solve(list(constraints), fid)
            if solution.value is None:
                return None
            values[fid] = solution.value
        return values


def _split(needs: list[Alternatives]) -> tuple[Clause | None, list[Alternatives]]:
    """Obligations with one way merged into one clause (None if one cannot hold); the rest."""
    fixed: list[tuple[int, Constraint]] = []
    branching: list[Alternatives] = []
    for alternatives in needs:
        usable = [a for a in alternatives if a is not None]
        if not usable:
            return None, []
        if len(usable) == 1:
            fixed += usable[0]
        else:
            branching.append(tuple(usable))
    return tuple(fixed), branching


def _add(state: _State, clause: Clause) -> None:
    for fid, constraint in clause:
        state.setdefault(fid, {})[constraint] = None


def _search(evaluator: Evaluator, event_id: int, fields: Mapping[str, Iterable[Constraint]] | None,
            plan: Plan) -> _Search:
    event_type = newest(evaluator.platform).events_by_id.get(event_id)
    index = event_type.field_index if event_type is not None else {}
    names: dict[int, str | None] = dict(enumerate(event_type.field_names)) if event_type is not None else {}
    names.update(dict(plan.fields))
    search = _Search(names, evaluator.platform)
    for name, constraints in (fields or {}).items():
        if name not in index:
            raise KeyError(f"event {event_id} has no field {name!r}")
        search.extra[index[name]] = list(constraints)
    return search


def minimal(event: Event, keep: Callable[[Event], bool]) -> Event:
    """``event`` without every field whose absence ``keep`` still accepts (easier to read)."""
    fields = dict(event.fields)
    for name in list(fields):
        trial = {k: v for k, v in fields.items() if k != name}
        if keep(Event.read(event.event_id, trial, event.origin)):
            fields = trial
    return Event.read(event.event_id, fields, event.origin)


def candidate_events(evaluator: Evaluator, event_id: int, target: Target, *,
                     fields: Mapping[str, Iterable[Constraint]] | None = None,
                     limit: int = _EVENTS_PER_TARGET) -> Iterator[Event]:
    """Events built to end the walk of ``event_id`` at ``target`` (not yet checked)."""
    plan = evaluator.plan(event_id)
    search = _search(evaluator, event_id, fields, plan)
    yield from search.events(obligations(plan.sets, plan.valid, target), event_id, limit)


def event_targets(evaluator: Evaluator, event_id: int) -> list[Target]:
    """Every place the walk of ``event_id`` can end in this evaluator, in evaluation order."""
    return list(targets(evaluator.plan(event_id).sets))


def find_event(evaluator: Evaluator, event_id: int, accept: Callable[[Decision], bool], *,
               fields: Mapping[str, Iterable[Constraint]] | None = None,
               only: Sequence[Target] | None = None) -> Witness | None:
    """An event of ``event_id`` whose decision ``accept`` takes (checked), or None if none found.

    ``fields`` adds constraints by field name (e.g. from a Sigma rule); ``only`` limits the
    targets tried. None means "not found", not "impossible".
    """
    for target in only if only is not None else event_targets(evaluator, event_id):
        for event in candidate_events(evaluator, event_id, target, fields=fields):
            if accept(evaluator.decide(event)):
                event = minimal(event, lambda e: accept(evaluator.decide(e)))
                return Witness(event, (evaluator.decide(event),), target)
    return None


def event_with(evaluator: Evaluator, event_id: int, decision: str, *, rule_name: str | None = None,
               fields: Mapping[str, Iterable[Constraint]] | None = None) -> Witness | None:
    """An event the evaluator decides as ``decision`` (and with ``rule_name``, if given)."""
    def accept(d: Decision) -> bool:
        return d.decision == decision and (rule_name is None or d.rule_name == rule_name)
    return find_event(evaluator, event_id, accept, fields=fields)


def set_event(rule_set: RuleSet, *, match: bool = True, binary_version: int = 0x00120000,
              platform: str = "windows", fields: Mapping[str, Iterable[Constraint]] | None = None
              ) -> Witness | None:
    """An event of the set's id that this one rule set, alone, matches (or does not match)."""
    table = RuleTable(binary_version, 0x0004005A, (rule_set,))
    evaluator = Evaluator(table, platform="linux" if platform == "linux" else "windows")
    return find_event(evaluator, rule_set.event_id, lambda d: (d.reason == MATCH_REASON) == match, fields=fields)


def distinguish(first: Evaluator, second: Evaluator, event_id: int, *, ignore_rule_names: bool = False,
                only: Iterable[tuple[int, Target]] | None = None,
                require: Callable[[Event], bool] | None = None) -> Witness | None:
    """An event the two evaluators decide differently (decision, or RuleName unless ignored).

    Targets come from both sides; ``only`` restricts them to ``(side, target)`` pairs (side 0 is
    ``first``). When no single path shows a difference, each is combined with paths of the other
    side: "no set matches there" (a filter whose condition changed), paths through sets of the
    opposite onmatch (a new exclude filter only shows on an event the old config logs), then the
    rest. ``require`` is a further test the event must pass (the diff uses it to attribute a
    witness to one change). Both decisions are in the witness, re-checked.
    """
    sides = (first, second)
    chosen = list(only) if only is not None else [(s, t) for s in (0, 1) for t in event_targets(sides[s], event_id)]

    def wanted(event: Event) -> bool:
        return _differs(first, second, event, ignore_rule_names) and (require is None or require(event))

    def check(events: Iterable[Event], target: Target) -> Witness | None:
        for event in events:
            if wanted(event):
                event = minimal(event, wanted)
                return Witness(event, (first.decide(event), second.decide(event)), target)
        return None

    for side, target in chosen:
        found = check(candidate_events(sides[side], event_id, target), target)
        if found is not None:
            return found
    for side, target in chosen:
        for partner in _partners(sides[side], sides[1 - side], event_id, target):
            found = check(combined_events(((sides[side], target), (sides[1 - side], partner)), event_id), target)
            if found is not None:
                return found
    return None


def distinguish_along(first: Evaluator, second: Evaluator, event_id: int,
                      paths: Iterable[Sequence[tuple[int, Target]]], *, ignore_rule_names: bool = False,
                      require: Callable[[Event], bool] | None = None) -> Witness | None:
    """Like :func:`distinguish`, over events that take several paths at once (each path a list of
    ``(side, target)``; side 0 is ``first``): e.g. two filters of one set both matching."""
    sides = (first, second)

    def wanted(event: Event) -> bool:
        return _differs(first, second, event, ignore_rule_names) and (require is None or require(event))

    for path in paths:
        for event in combined_events([(sides[side], target) for side, target in path], event_id):
            if wanted(event):
                event = minimal(event, wanted)
                return Witness(event, (first.decide(event), second.decide(event)), path[0][1])
    return None


def _partners(mine: Evaluator, other: Evaluator, event_id: int, target: Target) -> list[Target]:
    """Paths of the other side worth combining with ``target``: "nothing matches there", then
    paths through sets of the opposite onmatch, then the rest."""
    sets = other.plan(event_id).sets
    on_match = mine.plan(event_id).sets[target.position].on_match if target.position is not None else None
    rest = [t for t in event_targets(other, event_id) if t.position is not None]
    opposite = [t for t in rest if sets[t.position or 0].on_match != on_match]
    same = [t for t in rest if sets[t.position or 0].on_match == on_match]
    return [Target(None), *opposite, *same][:_PARTNERS]


def combined_events(paths: Iterable[tuple[Evaluator, Target]], event_id: int, *, limit: int = _EVENTS_PER_TARGET
                    ) -> Iterator[Event]:
    """Events built to take every ``(evaluator, target)`` path at once (not yet checked)."""
    needs: list[Alternatives] = []
    plan: Plan | None = None
    evaluator: Evaluator | None = None
    for evaluator, target in paths:
        plan = evaluator.plan(event_id)
        needs += obligations(plan.sets, plan.valid, target)
    if plan is None or evaluator is None:
        return
    yield from _search(evaluator, event_id, None, plan).events(needs, event_id, limit)


def _differs(first: Evaluator, second: Evaluator, event: Event, ignore_rule_names: bool) -> bool:
    return differ(first.decide(event), second.decide(event), ignore_rule_names=ignore_rule_names)


def differ(a: Decision, b: Decision, *, ignore_rule_names: bool = False) -> bool:
    """Do two decisions differ in what Sysmon does (decision, and RuleName unless ignored)?"""
    if a.decision != b.decision:
        return True
    return not ignore_rule_names and a.rule_name != b.rule_name


__all__ = [
    "Witness",
    "candidate_events",
    "combined_events",
    "differ",
    "distinguish",
    "event_targets",
    "event_with",
    "find_event",
    "minimal",
    "set_event",
]
