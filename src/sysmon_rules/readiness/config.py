"""A config's decision for one event id as a formula: "this event is logged".

Built from the rule sets the evaluator applies to the id, in its order, with the semantics of
Sysmon's matcher (``engine/setwalk.py``): an OR set matches when one item does; an AND set when
every ``<Rule>`` item does and, per field, one of its top-level filters does (a NoMatch is not
final while a later top-level filter tests the same field). Any exclude set matching drops the
event; otherwise an include set matching logs it; otherwise one set alone applies its default
and two or more drop it. Each filter becomes core atoms where its condition allows, a ``test``
atom (Sysmon's own predicate) where not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from ..engine import Evaluator
from ..engine.compiled import CFilter, CGroup, CSet, compile_set
from ..engine.conditions import (
    BEGIN_WITH,
    CONTAINS,
    CONTAINS_ALL,
    CONTAINS_ANY,
    END_WITH,
    EXCLUDES,
    EXCLUDES_ALL,
    EXCLUDES_ANY,
    IMAGE,
    IS,
    IS_ANY,
    IS_NOT,
    NOT_BEGIN_WITH,
    NOT_END_WITH,
    list_needles,
    list_tokens,
)
from ..engine.slots import NEVER_FILTERED
from ..ruletable import COMBINE_AND, RuleSet
from ..schema import newest
from .formula import FALSE, TRUE, Atom, Formula, Or, conj, disj, negate, substitute
from .members import GROUP_AT, KINDS, Members


@dataclass(frozen=True, slots=True)
class EventRules:
    """What a config does with one event id: the formula of "logged" and the sets behind it."""

    event_id: int
    logged: Formula
    sets: tuple[CSet, ...]
    by_construction: str  # why the decision is fixed for every event of this id ("" when it is not)
    unincluded: Formula = FALSE  # no exclude set matches and no include set does either (dropped by default)
    dropped: Formula = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dropped", negate(self.logged))


class ConfigFormulas:
    """``logged(event_id)`` for a config (through its evaluator), cached per id."""

    def __init__(self, evaluator: Evaluator) -> None:
        self.evaluator = evaluator
        self.schema = newest(evaluator.platform)
        self._cache: dict[int, EventRules] = {}

    def rules(self, event_id: int) -> EventRules:
        found = self._cache.get(event_id)
        if found is None:
            found = self._cache[event_id] = self._build(event_id)
        return found

    def _build(self, event_id: int) -> EventRules:
        event_type = self.schema.events_by_id.get(event_id)
        if event_id in NEVER_FILTERED:
            return EventRules(event_id, TRUE, (), f"event {event_id} is never filtered: always logged")
        rule_sets = self.evaluator.rule_sets_for(event_id)
        if not rule_sets:
            default = event_type.default_decision if event_type is not None else "exclude"
            state = "on: every event logged" if default == "include" else "off: no event logged"
            return EventRules(event_id, TRUE if default == "include" else FALSE, (),
                              f"no rule set for event {event_id}, Sysmon's default is {state}")
        csets = tuple(self._compile(rs) for rs in rule_sets)
        names = event_type.field_names if event_type is not None else ()
        matches = [(c, self._set_formula(c, names)) for c in csets]
        excluded = [negate(f) for c, f in matches if c.on_match == "exclude"]
        included = [f for c, f in matches if c.on_match == "include"]
        if len(csets) == 1 and csets[0].on_match == "exclude":
            included.append(TRUE)  # one set alone, no match: its default logs the event
        logged = conj([*excluded, disj(included)])
        fixed = ""
        if logged == FALSE:
            fixed = f"no event {event_id} can be logged: no include set can match"
        unincluded = conj([*excluded, negate(disj(included))])
        return EventRules(event_id, logged, csets, fixed, unincluded)

    def _compile(self, rule_set: RuleSet) -> CSet:
        table = self.evaluator.table
        rank = next(i for i, rs in enumerate(table.rule_sets) if rs is rule_set)
        return compile_set(rule_set, rank, binary_version=table.binary_version,
                           platform=self.evaluator.platform, environment=self.evaluator.environment)

    def _set_formula(self, cset: CSet, names: tuple[str, ...]) -> Formula:
        return set_formula(self, cset, names)


def _reader(formulas: ConfigFormulas, cset: CSet, names: tuple[str, ...]) -> Callable[[CFilter], str | None]:
    own = formulas.schema.events_by_id.get(cset.rule_set.event_id)
    own_names = own.field_names if own is not None else ()

    def field_of(flt: CFilter) -> str | None:
        # Shared elements: the field must have the same name at that index in this event's table.
        i = flt.field_id
        if i >= len(own_names) or i >= len(names) or own_names[i] != names[i]:
            return None
        return names[i]

    return field_of


def set_formula(formulas: ConfigFormulas, cset: CSet, names: tuple[str, ...]) -> Formula:
    """When the set matches an event whose type has field ``names`` (Sysmon's walk, as a formula)."""
    field_of = _reader(formulas, cset, names)
    if not cset.items:
        return FALSE
    if cset.combine != COMBINE_AND:
        return disj(_grouped([_item(i, field_of) for i in cset.items]))
    groups: dict[int, list[Formula]] = defaultdict(list)
    parts: list[Formula] = []
    for item in cset.items:
        if isinstance(item, CGroup):
            parts.append(_item(item, field_of))
        else:
            groups[item.field_id].append(filter_formula(item, field_of(item)))
    return conj(parts + [disj(g) for g in groups.values()])


def _grouped(items: list[Formula]) -> list[Formula]:
    """Long runs of plain positive tests on one field become one indexed ``anyof`` atom (same truth)."""
    plain: dict[str, list[Atom]] = defaultdict(list)
    for item in items:
        for atom in item.items if isinstance(item, Or) else (item,):
            if isinstance(atom, Atom) and not atom.negated and atom.kind in KINDS:
                plain[atom.field].append(atom)
    big = {name for name, found in plain.items() if len(found) >= GROUP_AT}
    if not big:
        return items
    out: list[Formula] = []
    for item in items:
        parts = item.items if isinstance(item, Or) else (item,)
        if all(isinstance(a, Atom) and a.field in big and not a.negated and a.kind in KINDS for a in parts):
            continue  # the filter is in its field's group
        out.append(item)
    for name in sorted(big):
        by_kind: dict[str, set[str]] = defaultdict(set)
        for atom in plain[name]:
            by_kind[atom.kind].add(str(atom.value))
        members = Members(frozenset(by_kind["eq"]), frozenset(by_kind["prefix"]), frozenset(by_kind["suffix"]),
                          frozenset(by_kind["contains"]))
        out.append(Atom(name, "anyof", members, False, f"{len(plain[name])} filters"))
    return out


def item_formula(formulas: ConfigFormulas, cset: CSet, item: CFilter | CGroup, names: tuple[str, ...]) -> Formula:
    """When one item (a top-level filter or a ``<Rule>``) of ``cset`` matches."""
    return _item(item, _reader(formulas, cset, names))


def _item(item: CFilter | CGroup, field_of: Callable[[CFilter], str | None]) -> Formula:
    if isinstance(item, CFilter):
        return filter_formula(item, field_of(item))
    inner = [filter_formula(f, field_of(f)) for f in item.filters]
    return conj(inner) if item.combine == COMBINE_AND else disj(inner)


def filter_formula(flt: CFilter, field: str | None) -> Formula:
    """One compiled filter as a formula over ``field`` (None: the filter cannot read this event)."""
    if field is None or flt.dead or flt.test is None:
        return FALSE
    if flt.field_id == 0:  # RuleName is not set while the rules run: it always reads "-"
        return substitute(_condition_formula(flt, field), field, "-")
    return _condition_formula(flt, field)


def _condition_formula(flt: CFilter, field: str) -> Formula:
    origin = str(flt.source.location) if flt.source.location else ""
    data, cond = flt.data, flt.condition

    def atom(kind: str, value: str, negated: bool = False) -> Formula:
        return Atom(field, kind, value, negated, origin)

    if cond in (IS, IS_NOT):
        return atom("eq", data, cond == IS_NOT)
    if cond in (CONTAINS, EXCLUDES):
        return atom("contains", data, cond == EXCLUDES)
    if cond in (BEGIN_WITH, NOT_BEGIN_WITH):
        return atom("prefix", data, cond == NOT_BEGIN_WITH)
    if cond in (END_WITH, NOT_END_WITH):
        return atom("suffix", data, cond == NOT_END_WITH)
    if cond in (CONTAINS_ANY, EXCLUDES_ANY, CONTAINS_ALL, EXCLUDES_ALL):
        each = [atom("contains", n) for n in list_needles(data)]
        some = disj(each) if cond in (CONTAINS_ANY, EXCLUDES_ANY) else conj(each)
        return negate(some) if cond in (EXCLUDES_ANY, EXCLUDES_ALL) else some
    if cond == IS_ANY:
        return disj([atom("eq", t) for t in list_tokens(data)])
    if cond == IMAGE:
        # The file-name reading first: the search tries it first, and it is the one real paths take.
        return atom("eq", data) if "\\" in data else disj([atom("suffix", "\\" + data), atom("eq", data)])
    return Atom(field, "test", flt.test, False, origin)  # less than / more than: Sysmon's own predicate
