"""One field: a value satisfying a conjunction of atoms, a proof that none exists, or "unknown".

The core kinds (eq, prefix, suffix, contains, each possibly negated) are Sysmon's own conditions
(is / is not, begin with / not begin with, end with / not end with, contains / excludes), so the
shared solver ``sysmon_rules.witness.solve_field`` decides them: its "impossible" is a proof.
Globs, regexes, networks and ``test`` atoms are Sigma's (or a ``less than``): the shared solver
gets what they imply in core terms (a glob's literal parts), and every candidate value is then
checked exactly against all atoms. Nothing is called impossible because of a non-core atom.

``quick_conflict`` is a cheap necessary test the search uses to prune a case as soon as an atom
is added; it only reports contradictions that hold for every value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from ..witness import IMPOSSIBLE, Constraint
from ..witness import solve_field as shared_solve
from .formula import CORE, MARKERS, And, Atom, Formula
from .instances import instances as _instances
from .members import Members

# Fillers for candidates built around non-core atoms; one absent from every negative string is used.
_FILLERS = "xqz_0#~jkv1w"


@dataclass(frozen=True, slots=True)
class FieldResult:
    """``value`` when satisfiable; ``None`` with ``proven`` True when nothing can satisfy."""

    value: str | None
    proven: bool = True
    why: str = ""


class FieldCache:
    """:func:`quick_conflict` and :func:`solve_field` answers remembered, keyed by the atoms.

    Both are pure, and a search meets the same field's tests again in every branch, as do a
    rule's other searches and the next rules against the same config (its excludes). One cache
    per config's assessment (it holds atoms alive), emptied when it reaches ``_CACHED`` entries.
    """

    __slots__ = ("_conflicts", "_orders", "_solved")

    def __init__(self) -> None:
        # Conflicts are cheap and asked often: keyed by the atoms' identities (hashing an atom's
        # value costs about what the check does); each entry keeps its atoms, so no identity is
        # reused while it stands. Solving is dear: keyed by value, equal atoms of other rules hit.
        self._conflicts: dict[tuple[int, ...], tuple[tuple[Atom, ...], str | None]] = {}
        self._solved: dict[tuple[Atom, ...], FieldResult] = {}
        self._orders: dict[int, tuple[Formula, tuple[Formula, ...]]] = {}  # by identity, as conflicts

    def conflict(self, atoms: tuple[Atom, ...]) -> str | None:
        key = tuple(map(id, atoms))
        found = self._conflicts.get(key)
        if found is None:
            if len(self._conflicts) >= _CACHED:
                self._conflicts.clear()
            found = self._conflicts[key] = (atoms, quick_conflict(list(atoms)))
        return found[1]

    def solve(self, atoms: tuple[Atom, ...]) -> FieldResult:
        found = self._solved.get(atoms)
        if found is None:
            if len(self._solved) >= _CACHED:
                self._solved.clear()
            found = self._solved[atoms] = solve_field(list(atoms))
        return found

    def ordered(self, conjunction: And, key: Callable[[Formula], int]) -> tuple[Formula, ...]:
        """The items of ``conjunction`` sorted by ``key``, remembered: a search meets the same
        conjunction in every branch that reaches it."""
        found = self._orders.get(id(conjunction))
        if found is None:
            if len(self._orders) >= _CACHED:
                self._orders.clear()
            found = self._orders[id(conjunction)] = (conjunction, tuple(sorted(conjunction.items, key=key)))
        return found[1]


_CACHED = 1 << 15  # entries per kind: most answers are asked again within a rule or the next few


def quick_conflict(atoms: list[Atom]) -> str | None:
    """A reason the conjunction is unsatisfiable found without building values, or None."""
    pos = [a for a in atoms if not a.negated]
    eqs = {str(a.value) for a in pos if a.kind == "eq"}
    if len(eqs) > 1:
        return "two different exact values"
    if eqs:
        value = next(iter(eqs))
        bad = next((a for a in atoms if not a.holds(value)), None)
        return None if bad is None else f"exact value {value!r} fails {bad}"
    prefix, why = _longest(pos, "prefix")
    if why:
        return why
    suffix, why = _longest(pos, "suffix")
    if why:
        return why
    needed = [prefix, suffix, *_literals(pos)]
    for a in atoms:
        if a.kind == "anyof" and a.negated and isinstance(a.value, Members):
            forced = a.value.forced(prefix, suffix, needed[2:])
            if forced is not None:
                return f"every value {forced}, which {a} forbids"
        if a.kind == "anyof" and not a.negated and isinstance(a.value, Members) and (prefix or suffix) \
                and next(iter(a.value.compatible(None, prefix, suffix)), None) is None:
            return f"no value starting with {prefix!r} and ending with {suffix!r} meets {a}"
        if not a.negated or a.kind not in CORE:
            continue
        rule = str(a.value)
        if a.kind == "contains" and any(rule in part for part in needed):
            return f"every value has {rule!r}, which {a} forbids"
        if a.kind == "prefix" and prefix.startswith(rule):
            return f"every value starts with {prefix!r}, which {a} forbids"
        if a.kind == "suffix" and suffix.endswith(rule):
            return f"every value ends with {suffix!r}, which {a} forbids"
    return None


def solve_field(atoms: list[Atom]) -> FieldResult:
    """A folded value meeting every atom (checked exactly), or a proof or admission that none is known."""
    why = quick_conflict(atoms)
    if why:
        return FieldResult(None, True, why)
    group = next((a for a in atoms if a.kind == "anyof" and not a.negated), None)
    if group is not None:
        return _solve_member(atoms, group)
    shared = shared_solve([_constraint(a) for a in core_view(atoms)])
    if shared.status == IMPOSSIBLE:
        return FieldResult(None, True, shared.reason)
    tried = [shared.value] if shared.value else []  # Sysmon never sees an empty value (it reads "-")
    for candidate in tried + _candidates(atoms):
        if all(a.holds(candidate) for a in atoms):
            return FieldResult(candidate)
    kinds = sorted({a.kind for a in atoms if a.kind not in CORE})
    if not kinds:
        return FieldResult(None, False, f"the shared solver could not decide: {shared.reason}")
    return FieldResult(None, False, f"no value found and {', '.join(kinds)} tests cannot be reasoned about exactly")


def _solve_member(atoms: list[Atom], group: Atom) -> FieldResult:
    """Meet one member of ``group`` (an indexed OR of plain tests) and every other atom.

    Only members compatible with the others' exact value, prefix and suffix are tried (the index
    proves the rest impossible); each is solved as a plain atom. Exhaustive up to ``_MEMBER_TRIES``.
    """
    members = group.value
    assert isinstance(members, Members)
    others = [a for a in atoms if a is not group]
    pos = [a for a in others if not a.negated]
    eq = next((str(a.value) for a in pos if a.kind == "eq"), None)
    prefix, _ = _longest(pos, "prefix")
    suffix, _ = _longest(pos, "suffix")
    unknown = ""
    for tried, (kind, data) in enumerate(members.compatible(eq, prefix, suffix)):
        if tried >= _MEMBER_TRIES:
            return FieldResult(None, False, f"more than {_MEMBER_TRIES} members of {group} to try")
        result = solve_field([*others, Atom(group.field, kind, data, False, group.origin)])
        if result.value is not None:
            return result
        unknown = unknown or ("" if result.proven else result.why)
    if unknown:
        return FieldResult(None, False, unknown)
    return FieldResult(None, True, f"no member of {group} can be met with the other tests")


_MEMBER_TRIES = 256


_CONDITION = {("eq", False): "is", ("eq", True): "is not", ("prefix", False): "begin with",
              ("prefix", True): "not begin with", ("suffix", False): "end with", ("suffix", True): "not end with",
              ("contains", False): "contains", ("contains", True): "excludes"}


def _constraint(atom: Atom) -> Constraint:
    return _constraint_of(atom.kind, atom.negated, str(atom.value))


@lru_cache(maxsize=1 << 14)  # the same tests recur in every solve of a field (a config's excludes)
def _constraint_of(kind: str, negated: bool, value: str) -> Constraint:
    return Constraint.of(_CONDITION[kind, negated], value)


def core_view(atoms: list[Atom]) -> list[Atom]:
    """The core atoms, plus what positive globs imply: their anchored ends and literal parts."""
    out = [a for a in atoms if a.kind in CORE]
    for a in atoms:
        if a.kind == "glob" and not a.negated and isinstance(a.value, tuple) and a.value:
            parts = a.value
            out += [Atom(a.field, "contains", p) for p in parts if p not in MARKERS]
            if parts[0] not in MARKERS:
                out.append(Atom(a.field, "prefix", parts[0]))
            if parts[-1] not in MARKERS:
                out.append(Atom(a.field, "suffix", parts[-1]))
    return out


def _longest(pos: list[Atom], kind: str) -> tuple[str, str]:
    best = ""
    for a in pos:
        if a.kind != kind:
            continue
        rule = str(a.value)
        longer, shorter = (rule, best) if len(rule) >= len(best) else (best, rule)
        agrees = longer.startswith(shorter) if kind == "prefix" else longer.endswith(shorter)
        if not agrees:
            return "", f"{kind}es {best!r} and {rule!r} contradict"
        best = longer
    return best, ""


def _literals(pos: list[Atom]) -> list[str]:
    """Strings every value must contain: contains-atoms and the literal parts of globs."""
    out = [str(a.value) for a in pos if a.kind == "contains"]
    for a in pos:
        if a.kind == "glob" and isinstance(a.value, tuple):
            out += [p for p in a.value if p not in MARKERS]
    return out


def _filler(atoms: list[Atom]) -> str:
    forbidden = "".join(str(a.value) for a in atoms if a.negated and a.kind in CORE)
    return next((c for c in _FILLERS if c not in forbidden), "x")


def _candidates(atoms: list[Atom]) -> list[str]:
    pos = [a for a in atoms if not a.negated]
    eq = next((str(a.value) for a in pos if a.kind == "eq"), None)
    if eq is not None:
        return [eq]
    c = _filler(atoms)
    prefix, _ = _longest(pos, "prefix")
    suffix, _ = _longest(pos, "suffix")
    middle = [str(a.value) for a in pos if a.kind == "contains"]
    core = prefix + c + "".join(k + c for k in middle) + suffix
    out = [core, prefix + c + c + "".join(k + c for k in middle) + suffix]
    extra = [_instances(a, c) for a in pos if a.kind not in CORE]
    for options in extra:  # each non-core positive offers its own instances, wrapped in the core parts
        for instance in options:
            wrapped = prefix + c + "".join(k + c for k in middle) + instance + c + suffix
            out += [instance, prefix + instance + suffix, wrapped]
    if len(extra) > 1:  # several: one instance of each, side by side
        for pick in (0, -1):
            chosen = [o[pick] for o in extra if o]
            out.append(prefix + c + "".join(k + c for k in middle) + "".join(i + c for i in chosen) + suffix)
    return out
