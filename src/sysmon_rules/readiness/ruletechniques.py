"""Technique ids the config's include rules name and can actually log under (for the config layer).

An include item (a filter or ``<Rule>``) counts for ``technique_id=T…`` in its RuleName when some
event makes its set decide with that name: the search looks for an event matching the item and
no exclude set, no include set tried earlier and, in an OR set, no earlier item; the evaluator
must then agree (include, by that set, RuleName naming the technique). Exclude sets never count.
"""

from __future__ import annotations

from collections import defaultdict

from ..engine.compiled import CFilter, CGroup, CSet
from ..events import Event
from ..ruletable import COMBINE_AND
from .config import ConfigFormulas, item_formula, set_formula
from .formula import Formula, conj, negate
from .navigator import TECHNIQUE_IN_NAME
from .search import search


def deciding_techniques(formulas: ConfigFormulas, budget: int = 2000) -> tuple[dict[str, list[str]], int]:
    """technique id -> places (``path:line``) of include items that can log under it; and how many did not."""
    counted: dict[str, list[str]] = defaultdict(list)
    skipped = 0
    for event_id in sorted(formulas.schema.events_by_id):
        rules = formulas.rules(event_id)
        names = formulas.schema.events_by_id[event_id].field_names
        excludes = [negate(set_formula(formulas, c, names)) for c in rules.sets if c.on_match == "exclude"]
        earlier: list[Formula] = []
        for cset in (c for c in rules.sets if c.on_match == "include"):
            if cset.rule_set.event_id == event_id:
                skipped += _count_set(formulas, cset, names, excludes + earlier, counted)
            earlier.append(negate(set_formula(formulas, cset, names)))
    return dict(counted), skipped


def _count_set(formulas: ConfigFormulas, cset: CSet, names: tuple[str, ...], before: list[Formula],
               counted: dict[str, list[str]]) -> int:
    skipped = 0
    whole = set_formula(formulas, cset, names)
    previous: list[Formula] = []
    for item in cset.items:
        own = item_formula(formulas, cset, item, names)
        ids = {m.upper() for f in _filters(item) for m in TECHNIQUE_IN_NAME.findall(f.name or "")}
        if ids:
            target = conj([whole, own] if cset.combine == COMBINE_AND else [own, *previous])
            if not _confirm(formulas, cset, conj([*before, target]), ids, _place(item), counted):
                skipped += 1
        previous.append(negate(own))
    return skipped


def _confirm(formulas: ConfigFormulas, cset: CSet, query: Formula, ids: set[str], place: str,
             counted: dict[str, list[str]]) -> bool:
    outcome = search(query, 2000)
    if outcome.status != "sat":
        return False
    decision = formulas.evaluator.decide(Event(cset.rule_set.event_id, outcome.values))
    if decision.decision != "include" or decision.rule_set is not cset.rule_set:
        return False
    named = {m.upper() for m in TECHNIQUE_IN_NAME.findall(decision.rule_name or "")}
    for technique in ids & named:
        counted[technique].append(place)
    return bool(ids & named)


def _filters(item: CFilter | CGroup) -> tuple[CFilter, ...]:
    return item.filters if isinstance(item, CGroup) else (item,)


def _place(item: CFilter | CGroup) -> str:
    location = _filters(item)[0].source.location
    return str(location) if location else "?"
