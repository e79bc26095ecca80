"""Boolean formulas over field tests: the one language Sigma detections and Sysmon rule sets meet in.

An :class:`Atom` tests one field's value (already folded to lowercase, as Sysmon compares it) with
one of a few kinds; ``And``/``Or`` combine; :func:`negate` pushes a negation down to the atoms, so
every formula the solver sees is in negation normal form.

Kinds ``eq``, ``prefix``, ``suffix`` and ``contains`` are the *core*: the solver decides any
conjunction of them and their negations exactly. ``glob`` (Sigma wildcards inside a value),
``regex``, ``cidr`` and ``test`` (a Sysmon condition the core cannot express, e.g. ``less than``)
are checked exactly on candidate values but only approximated when proving that none exists.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from dataclasses import field as _field

from ..boundedcache import bounded_cache, text_cost
from ..engine.conditions import fold

CORE = frozenset({"eq", "prefix", "suffix", "contains"})
# Glob markers: NUL never occurs in a value Sysmon compares (it reads up to the first NUL).
ANY_RUN = "\0*"
ANY_ONE = "\0?"
MARKERS = (ANY_RUN, ANY_ONE)


@dataclass(frozen=True, slots=True)
class Atom:
    """``field`` satisfies ``kind``/``value`` (or, with ``negated``, does not).

    ``glob`` values are tuples of literal parts and ``ANY_RUN``/``ANY_ONE`` markers; ``regex`` values are
    compiled patterns; ``cidr`` values are networks; ``test`` values are predicates. ``origin``
    says where the test came from (a Sigma selection, a config filter) for reasons and witnesses.
    """

    field: str
    kind: str
    value: object
    negated: bool = False
    origin: str = _field(default="", compare=False)

    def holds(self, value: str) -> bool:
        """The exact truth of this atom for a field value, compared folded as Sysmon compares it;
        only a case-sensitive regex (Sigma ``re``, ``cased``) reads the value's case, which is why
        the solver's value for one can keep its letters' case (docs/coverage.md)."""
        kind = self.kind
        if kind != "regex" and not value.islower():
            value = fold(value)
        # The core kinds inline: the search asks millions of times.
        if kind == "eq":
            return (value == self.value) != self.negated
        if kind == "suffix":
            return value.endswith(str(self.value)) != self.negated
        if kind == "prefix":
            return value.startswith(str(self.value)) != self.negated
        if kind == "contains":
            return (str(self.value) in value) != self.negated
        return _holds(kind, self.value, value) != self.negated

    def __str__(self) -> str:
        shown = self.value.pattern if isinstance(self.value, re.Pattern) else self.value
        if self.kind == "anyof":  # an index of thousands of values: its size, not its contents
            return f"{self.field} {'not ' if self.negated else ''}{self.value}"
        if self.kind == "glob" and isinstance(self.value, tuple):
            shown = "".join("*" if p == ANY_RUN else "?" if p == ANY_ONE else p for p in self.value)
        return f"{self.field} {'not ' if self.negated else ''}{self.kind} {shown!r}"


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Formula, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Formula, ...]


@dataclass(frozen=True, slots=True)
class Const:
    value: bool


Formula = Atom | And | Or | Const
TRUE = Const(True)
FALSE = Const(False)


def conj(items: list[Formula] | tuple[Formula, ...]) -> Formula:
    """AND of ``items``, simplified: TRUE drops out, FALSE absorbs, nested ANDs flatten."""
    out: list[Formula] = []
    for item in items:
        if isinstance(item, Const):
            if not item.value:
                return FALSE
        elif isinstance(item, And):
            out.extend(item.items)
        else:
            out.append(item)
    return TRUE if not out else out[0] if len(out) == 1 else And(tuple(out))


def disj(items: list[Formula] | tuple[Formula, ...]) -> Formula:
    """OR of ``items``, simplified: FALSE drops out, TRUE absorbs, nested ORs flatten."""
    out: list[Formula] = []
    for item in items:
        if isinstance(item, Const):
            if item.value:
                return TRUE
        elif isinstance(item, Or):
            out.extend(item.items)
        else:
            out.append(item)
    return FALSE if not out else out[0] if len(out) == 1 else Or(tuple(out))


def negate(formula: Formula) -> Formula:
    """NOT ``formula``, with the negation pushed to the atoms (De Morgan)."""
    if isinstance(formula, Atom):
        return Atom(formula.field, formula.kind, formula.value, not formula.negated, formula.origin)
    if isinstance(formula, And):
        return disj([negate(f) for f in formula.items])
    if isinstance(formula, Or):
        return conj([negate(f) for f in formula.items])
    return Const(not formula.value)


def evaluate(formula: Formula, fields: Callable[[str], str]) -> bool:
    """The truth of ``formula`` for an event whose field values ``fields`` gives (see ``Atom.holds``)."""
    if isinstance(formula, Atom):
        return formula.holds(fields(formula.field))
    if isinstance(formula, And):
        return all(evaluate(f, fields) for f in formula.items)
    if isinstance(formula, Or):
        return any(evaluate(f, fields) for f in formula.items)
    return formula.value


def atoms(formula: Formula) -> Iterator[Atom]:
    if isinstance(formula, Atom):
        yield formula
    elif isinstance(formula, And | Or):
        for item in formula.items:
            yield from atoms(item)


@bounded_cache(32 << 20, text_cost, regexes=True)  # keyed by rule content: bounded by size
def glob_regex(parts: tuple[str, ...]) -> re.Pattern[str]:
    """The anchored regex of a glob: ``ANY_RUN`` any run, ``ANY_ONE`` one character, the rest literal."""
    body = "".join(".*" if p == ANY_RUN else "." if p == ANY_ONE else re.escape(p) for p in parts)
    return re.compile(body, re.DOTALL)


def _holds(kind: str, rule: object, value: str) -> bool:
    if kind == "eq":
        return value == rule
    if kind == "prefix":
        return value.startswith(str(rule))
    if kind == "suffix":
        return value.endswith(str(rule))
    if kind == "contains":
        return str(rule) in value
    if kind == "glob" and isinstance(rule, tuple):
        return glob_regex(rule).fullmatch(value) is not None
    if kind == "regex" and isinstance(rule, re.Pattern):
        return rule.search(value) is not None
    if kind == "cidr" and isinstance(rule, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return _in_network(value, rule)
    if kind == "anyof":  # a Members index (readiness/members.py): many plain tests OR-ed
        return bool(rule.matches(value))  # type: ignore[attr-defined]
    if kind == "test" and callable(rule):
        return bool(rule(value))
    raise ValueError(f"atom kind {kind!r} with a {type(rule).__name__} value")


def _in_network(value: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        return ipaddress.ip_address(value) in network
    except ValueError:
        return False


class Unsupported(Exception):
    """A part of a rule the reasoning cannot handle; the message says what exactly."""


def substitute(formula: Formula, field: str, value: str) -> Formula:
    """``formula`` with every atom on ``field`` replaced by its truth for ``value``."""
    if isinstance(formula, Atom):
        return Const(formula.holds(value)) if formula.field == field else formula
    if isinstance(formula, And):
        return conj([substitute(f, field, value) for f in formula.items])
    if isinstance(formula, Or):
        return disj([substitute(f, field, value) for f in formula.items])
    return formula
