"""Normal forms of what decides an event id, and the proofs of equivalence built on them.

Two configs are proven equivalent when, for every event id, the normal forms of their plans
(the compiled sets the evaluator walks for that id, in its order) are equal. Each step of the
normalisation keeps every decision and RuleName, by the walk rules in ``engine.walk``:

- a filter is what the matcher uses: its field (or "never", when the field does not resolve for
  this event id), the normalised condition, the rule data folded and cut at a NUL (before
  environment expansion, so any session's environment gives the same result), whether it is
  expanded, and the RuleName a match reports; blob order, aggregation ids and locations go;
- in an OR set (or OR ``<Rule>``), an item equal to an earlier one except for its name is
  dropped: it is reached only when the earlier one did not match, so it never matches;
- with RuleNames ignored, decisions do not depend on order at all unless a filter can fail
  (an unknown condition): an OR set matches when any item does, an AND set when each field's
  top-level run has a match (the same-field rescue) and every ``<Rule>`` matches, and across sets
  only "some exclude set matches", "some include set matches" and the number of sets count.

With RuleNames kept, two OR sets of plain filters in different orders are also proven alike
when every pair that changed order is provably disjoint (no value matches both) or reports the
same name (:func:`or_reorder_safe`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from ..engine import Evaluator
from ..engine.compiled import CFilter, CGroup, CSet, Item
from ..engine.conditions import ENVIRONMENT_BIT, c_string, fold
from ..engine.index import Plan
from ..engine.slots import NEVER_FILTERED
from ..ruletable import COMBINE_AND, COMBINE_OR
from ..schema import newest
from ..witness import Constraint, disjoint

Form = Hashable


def filter_form(flt: CFilter, valid: frozenset[int], platform: str, *, names: bool) -> Form:
    if flt.field_id not in valid:
        return ("never",)
    if flt.test is None:
        return ("failed", flt.field_id)
    data = fold(c_string(flt.source.value))
    return (flt.field_id, flt.condition, data, _expands(flt, platform), flt.name if names else None)


def _expands(flt: CFilter, platform: str) -> bool:
    return platform == "windows" and ("%" in flt.source.value or bool(flt.source.condition & ENVIRONMENT_BIT))


def _can_fail(cset: CSet) -> bool:
    return any(f.test is None for item in cset.items for f in _filters(item))


def _filters(item: Item) -> tuple[CFilter, ...]:
    return item.filters if isinstance(item, CGroup) else (item,)


def item_form(item: Item, valid: frozenset[int], platform: str, *, names: bool, ordered: bool) -> Form:
    if isinstance(item, CFilter):
        return filter_form(item, valid, platform, names=names)
    forms = [filter_form(f, valid, platform, names=names) for f in item.filters]
    if item.combine == COMBINE_OR:
        forms = _first_of_each(forms, [filter_form(f, valid, platform, names=False) for f in item.filters])
    return ("rule", item.combine, tuple(forms) if ordered else tuple(sorted(set(forms), key=repr)))


def _first_of_each(forms: list[Form], keys: list[Form]) -> list[Form]:
    """Drop items equal (names aside) to an earlier one: in an OR walk they never match."""
    seen: set[Form] = set()
    out: list[Form] = []
    for form, key in zip(forms, keys, strict=True):
        if key not in seen:
            seen.add(key)
            out.append(form)
    return out


def set_form(cset: CSet, valid: frozenset[int], platform: str, *, names: bool) -> Form:
    """A set's normal form for events whose resolvable fields are ``valid``."""
    ordered = names or _can_fail(cset)
    forms = [item_form(i, valid, platform, names=names, ordered=ordered) for i in cset.items]
    if cset.combine == COMBINE_OR:
        keys = [item_form(i, valid, platform, names=False, ordered=ordered) for i in cset.items]
        forms = _first_of_each(forms, keys)
        body: Form = tuple(forms) if ordered else tuple(sorted(set(forms), key=repr))
    elif cset.combine == COMBINE_AND and not ordered:
        body = _and_body(cset, valid, platform)
    else:
        body = tuple(forms)
    return (cset.on_match, cset.combine, body)


def _and_body(cset: CSet, valid: frozenset[int], platform: str) -> Form:
    runs: dict[int, set[Form]] = {}
    groups: set[Form] = set()
    for item in cset.items:
        if isinstance(item, CGroup):
            groups.add(item_form(item, valid, platform, names=False, ordered=False))
        else:
            runs.setdefault(item.field_id, set()).add(filter_form(item, valid, platform, names=False))
    return (tuple(sorted((tuple(sorted(r, key=repr)) for r in runs.values()), key=repr)),
            tuple(sorted(groups, key=repr)))


def plan_form(plan: Plan, platform: str, *, names: bool, memo: dict[Hashable, Form] | None = None) -> Form:
    """What decides events of one id: the sets' forms in evaluation order (or as multisets).

    ``memo`` keeps each set's form by (its place in the table, the fields it reads, names), so
    the ids of one series (RegistryEvent's 12-14) and a second look at an id compute it once.
    """
    forms = []
    for s, v in zip(plan.sets, plan.valid, strict=True):
        key = (s.rank, v, names)
        form = memo.get(key) if memo is not None else None
        if form is None:
            form = set_form(s, v, platform, names=names)
            if memo is not None:
                memo[key] = form
        forms.append(form)
    count = min(len(forms), 2)  # none: the type's default; one: its default; more: dropped
    default = plan.default if not forms else plan.sets[0].on_default if count == 1 else "exclude"
    if names or any(_can_fail(s) for s in plan.sets):
        return (tuple(forms), count, default)
    excludes = sorted((f for s, f in zip(plan.sets, forms, strict=True) if s.on_match == "exclude"), key=repr)
    includes = sorted((f for s, f in zip(plan.sets, forms, strict=True) if s.on_match == "include"), key=repr)
    return (tuple(excludes), tuple(includes), count, default)


def filtered_event_ids(platform: str) -> list[int]:
    return [e for e in newest(platform).events_by_id if e not in NEVER_FILTERED]  # type: ignore[arg-type]


def same_plan(old: Evaluator, new: Evaluator, event_id: int, *, names: bool,
              memos: tuple[dict[Hashable, Form], dict[Hashable, Form]] | None = None) -> bool:
    """Proven: both decide every event of ``event_id`` alike (decision, and RuleName if ``names``).

    ``memos``: one set-form memo per side (see :func:`plan_form`), kept by the caller.
    """
    a, b = old.plan(event_id), new.plan(event_id)
    memo_a, memo_b = memos if memos is not None else (None, None)
    if plan_form(a, old.platform, names=names, memo=memo_a) == plan_form(b, new.platform, names=names, memo=memo_b):
        return True
    return names and _reorders_only(a, b, old.platform)


def _reorders_only(a: Plan, b: Plan, platform: str) -> bool:
    if len(a.sets) != len(b.sets) or plan_form(a, platform, names=False) != plan_form(b, platform, names=False):
        return False
    for (sa, va), (sb, vb) in zip(zip(a.sets, a.valid, strict=True), zip(b.sets, b.valid, strict=True), strict=True):
        fa, fb = set_form(sa, va, platform, names=True), set_form(sb, vb, platform, names=True)
        if fa != fb and not or_reorder_safe(sa, va, sb, vb, platform):
            return False
    return True


def or_reorder_safe(a: CSet, va: frozenset[int], b: CSet, vb: frozenset[int], platform: str) -> bool:
    """Proven: two OR sets of plain filters, one a reordering of the other, report alike.

    For any event the first matching filter is the same in both orders unless two filters that
    changed order both match it; a pair that is disjoint, or reports the same name, is harmless.
    """
    if a.combine != COMBINE_OR or b.combine != COMBINE_OR or a.on_match != b.on_match or va != vb:
        return False
    if not all(isinstance(i, CFilter) and i.test is not None for i in (*a.items, *b.items)):
        return False
    left = [filter_form(i, va, platform, names=True) for i in a.items]  # type: ignore[arg-type]
    right = [filter_form(i, vb, platform, names=True) for i in b.items]  # type: ignore[arg-type]
    if sorted(left, key=repr) != sorted(right, key=repr) or len(set(left)) != len(left):
        return False
    where = {form: k for k, form in enumerate(right)}
    items: Sequence[CFilter] = a.items  # type: ignore[assignment]
    for i in range(len(left)):
        for j in range(i + 1, len(left)):
            if where[left[i]] > where[left[j]] and not _harmless_pair(items[i], items[j], platform):
                return False
    return True


def _harmless_pair(x: CFilter, y: CFilter, platform: str) -> bool:
    if x.name == y.name:
        return True
    if x.field_id != y.field_id or _expands(x, platform) or _expands(y, platform):
        return False  # an expanded value depends on the session: no proof from one environment
    return disjoint(Constraint(x.condition, x.data), Constraint(y.condition, y.data),
                    "linux" if platform == "linux" else "windows")


__all__ = ["filter_form", "filtered_event_ids", "or_reorder_safe", "plan_form", "same_plan", "set_form"]
