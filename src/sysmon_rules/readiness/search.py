"""Is a formula satisfiable? A depth-first case split over its ORs, one field solver per field.

``search(formula)`` gives ``sat`` with folded field values that make the formula true, ``unsat``
(every case split ends in a field with no possible value: a proof, because the field solver is
exact where it says "proven"), or ``unknown`` with the reason (a test the solver cannot reason
about, or the search budget ran out). The caller re-checks every ``sat`` answer on the real
event with the real evaluators.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .fieldsolve import FieldCache
from .formula import And, Atom, Const, Formula, Or

DEFAULT_BUDGET = 20_000

# A persistent list of formulas still to satisfy: (head, tail) pairs, None at the end.
_Pending = tuple[Formula, "_Pending"] | None
_Store = dict[str, tuple[Atom, ...]]
_Exact = dict[str, str]  # the fields whose atoms include a positive "eq": that value


@dataclass(frozen=True, slots=True)
class Outcome:
    """``status`` is "sat", "unsat" or "unknown"; ``values`` the folded fields of a solution."""

    status: str
    values: dict[str, str] = field(default_factory=dict)
    why: str = ""
    atoms: tuple[Atom, ...] = ()


def search(formula: Formula, budget: int = DEFAULT_BUDGET, cache: FieldCache | None = None) -> Outcome:
    """Find field values making ``formula`` (in negation normal form) true, or prove there are none.

    ``cache``: field answers shared with other searches over the same config (else this search's own).
    """
    cache = cache if cache is not None else FieldCache()
    stack: list[tuple[_Pending, _Store, _Exact]] = [((formula, None), {}, {})]
    steps = 0
    unknown = ""
    while stack:
        pending, store, exact = stack.pop()
        steps += 1
        if steps > budget:
            return Outcome("unknown", why=f"search budget of {budget} case splits exhausted")
        result = _run(pending, store, exact, stack, cache)
        if result is None:
            continue
        if result.status == "sat":
            return result
        unknown = unknown or result.why
    return Outcome("unknown", why=unknown) if unknown else Outcome("unsat")


def _run(pending: _Pending, store: _Store, exact: _Exact, stack: list[tuple[_Pending, _Store, _Exact]],
         cache: FieldCache) -> Outcome | None:
    """Follow ``pending`` until it branches (alternatives pushed) or ends (a leaf solved)."""
    store = dict(store)
    exact = dict(exact)
    while pending is not None:
        head, pending = pending
        if type(head) is Atom:  # the four classes have no subclasses: no isinstance needed
            if not _add(store, exact, head, cache):
                return None
        elif type(head) is And:
            # Plain tests first: a contradiction among them prunes before any OR below is split.
            for item in reversed(cache.ordered(head, _splits_later)):
                pending = (item, pending)
        elif type(head) is Or:
            for item in reversed(head.items):
                stack.append(((item, pending), store, exact))
            return None
        elif type(head) is Const and not head.value:
            return None
    return _leaf(store, cache)


def _splits_later(item: Formula) -> int:
    return 0 if isinstance(item, Atom | Const) else 1 if isinstance(item, And) else 2


def _add(store: _Store, exact: _Exact, atom: Atom, cache: FieldCache) -> bool:
    """Add ``atom``; False when its field is now plainly contradictory."""
    field = atom.field
    known = store.get(field, ())
    value = exact.get(field)
    if value is not None:
        # The field has an exact value every atom there holds: quick_conflict's answer is
        # whether the new atom holds it too (one test instead of one per atom).
        if not atom.holds(value):
            return False
        store[field] = (*known, atom)
        return True
    updated = (*known, atom)
    # A new negative atom can only clash with the positives: check against those alone.
    relevant = (*(a for a in updated if not a.negated), atom) if atom.negated else updated
    if cache.conflict(relevant) is not None:
        return False
    store[field] = updated
    if atom.kind == "eq" and not atom.negated:
        exact[field] = str(atom.value)
    return True


def _leaf(store: _Store, cache: FieldCache) -> Outcome | None:
    values: dict[str, str] = {}
    for name, field_atoms in store.items():
        result = cache.solve(field_atoms)
        if result.value is None:
            return None if result.proven else Outcome("unknown", why=f"{name}: {result.why}")
        values[name] = result.value
    return Outcome("sat", values, atoms=tuple(a for atoms in store.values() for a in atoms))
