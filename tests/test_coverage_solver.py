"""The coverage solver against brute force: its "proven impossible" must be true, its values right.

Values over a tiny alphabet keep brute force exhaustive: when a conjunction of core atoms is
satisfiable at all, ``P c K1 c … c Kn c S`` (plus one filler) is a solution, so enumerating every
string up to that length decides the question exactly.
"""

from __future__ import annotations

import itertools

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sysmon_rules.readiness.fieldsolve import solve_field
from sysmon_rules.readiness.formula import Atom, Or, conj, disj, evaluate, negate
from sysmon_rules.readiness.search import search

ALPHABET = "ab"
KINDS = ("eq", "prefix", "suffix", "contains")

atoms = st.builds(lambda kind, value, negated: Atom("F", kind, value, negated),
                  st.sampled_from(KINDS), st.text(ALPHABET, max_size=3), st.booleans())
short_atoms = st.builds(lambda kind, value, negated: Atom("F", kind, value, negated),
                        st.sampled_from(KINDS), st.text(ALPHABET, max_size=2), st.booleans())


def _strings(limit: int) -> itertools.chain[str]:
    # The solver's filler is a character outside every negative string: over "ab", always "x".
    # No empty string: Sysmon never compares one (an empty value reads as "-").
    return itertools.chain.from_iterable(
        ("".join(p) for p in itertools.product(ALPHABET + "x", repeat=n)) for n in range(1, limit + 1))


def _bound(conjunction: list[Atom]) -> int:
    positives = [a for a in conjunction if not a.negated]
    return sum(len(str(a.value)) for a in positives) + len(positives) + 2


@settings(max_examples=300, deadline=None)
@given(st.lists(atoms, min_size=1, max_size=4))
def test_field_solver_agrees_with_brute_force(conjunction: list[Atom]) -> None:
    result = solve_field(conjunction)
    if result.value is not None:
        assert all(a.holds(result.value) for a in conjunction)
        return
    assert result.proven, result.why  # core atoms only: always decided
    assume(_bound(conjunction) <= 9)  # keep the enumeration exhaustive and small
    witness = next((s for s in _strings(_bound(conjunction)) if all(a.holds(s) for a in conjunction)), None)
    assert witness is None, f"solver said impossible ({result.why}) but {witness!r} satisfies {conjunction}"


formulas = st.recursive(
    short_atoms.map(lambda a: Atom(("F", "G")[len(str(a.value)) % 2], a.kind, a.value, a.negated)),
    lambda inner: st.one_of(st.lists(inner, min_size=1, max_size=3).map(conj),
                            st.lists(inner, min_size=1, max_size=3).map(disj),
                            inner.map(negate)),
    max_leaves=5)


@settings(max_examples=80, deadline=None)
@given(formulas)
def test_search_agrees_with_brute_force_over_two_fields(formula: object) -> None:
    outcome = search(formula)  # type: ignore[arg-type]
    if outcome.status == "sat":
        assert evaluate(formula, lambda f: outcome.values.get(f, "-"))  # type: ignore[arg-type]
        return
    assert outcome.status == "unsat", outcome.why
    values = list(_strings(3))
    found = next(((f, g) for f in values for g in values
                  if evaluate(formula, lambda n, f=f, g=g: {"F": f, "G": g}[n])), None)  # type: ignore[arg-type,misc]
    assert found is None, f"search said impossible but F={found[0]!r}, G={found[1]!r} satisfies it"


def test_glob_and_regex_are_checked_exactly_but_never_claimed_impossible() -> None:
    import re

    glob = Atom("F", "glob", ("c:\\", "\0*", "\\x.exe"))
    assert solve_field([glob]).value is not None
    regex = Atom("F", "regex", re.compile(r"^\d{3}-[a-z]+$"))
    value = solve_field([regex]).value
    assert value is not None and regex.holds(value)
    blocked = solve_field([regex, Atom("F", "contains", "-", True)])
    assert blocked.value is None and not blocked.proven  # unknown, not "impossible"


def test_or_of_contradictions_is_unsat_and_a_budget_gives_unknown() -> None:
    a, b = Atom("F", "eq", "a"), Atom("F", "eq", "b")
    assert search(conj([a, b])).status == "unsat"
    wide = conj([Or(tuple(Atom("F", "eq", f"v{i}") for i in range(50))),
                 Or(tuple(Atom("F", "eq", f"w{i}") for i in range(50)))])
    assert search(wide, budget=100).status == "unknown"
