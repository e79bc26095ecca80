"""One field: a value that satisfies every constraint, a proof that none exists, or "unknown".

The solver builds candidates from the constraints' shapes (the exact values ``is``/``is any``
allow, the longest ``begin with`` prefix, the needles of ``contains``/``contains all``, one needle
of each ``contains any``, the ``end with`` suffix, ``image`` file names, ordering bounds) and keeps
the first candidate every constraint's own test accepts. "Impossible" is only said with a reason
that is a proof: every allowed value was tried (a finite set from ``is``/``is any``), or the
positive parts force a forbidden one (``begin with "c:\\windows"`` but ``excludes "windows"``).
Anything else that yields no value is "unknown".

>>> solve_field([Constraint.of("begin with", "C:\\\\Windows"), Constraint.of("end with", ".exe"),
...              Constraint.of("contains", "temp", negated=True)]).value
'c:\\\\windows.exe'
>>> solve_field([Constraint.of("is", "a"), Constraint.of("is any", "b;c")]).status
'impossible'
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ..engine.conditions import (
    BEGIN_WITH,
    CONTAINS,
    CONTAINS_ALL,
    CONTAINS_ANY,
    END_WITH,
    IMAGE,
    IS,
    IS_ANY,
    LESS_THAN,
    MORE_THAN,
    list_needles,
    list_tokens,
)
from ..schema.model import Platform
from .literals import Constraint

Status = Literal["found", "impossible", "unknown"]
FOUND: Status = "found"
IMPOSSIBLE: Status = "impossible"
UNKNOWN: Status = "unknown"

_SEPARATORS = ("", "\\", "x", "_", "0", "~", " ", "q", "\\zz\\")
_PLAIN_SEEDS = ("x", "a", "0", "-", "~", "zq", "\\x", "_", "1")
_MAX_CHOICES = 8  # needles tried per ``contains any`` (the product is capped too)
_MAX_BRANCHES = 64


@dataclass(frozen=True, slots=True)
class FieldSolution:
    """``status`` found (``value`` satisfies every constraint), impossible or unknown; ``reason``."""

    status: Status
    value: str | None = None
    reason: str = ""

    def __bool__(self) -> bool:
        return self.status == FOUND


@dataclass
class _Shape:
    """The constraints sorted by what they say about the value's form."""

    exact: set[str] | None = None  # every value allowed, when finite
    exact_from: str = ""
    prefixes: list[str] = field(default_factory=list)
    suffixes: list[str] = field(default_factory=list)
    needles: list[str] = field(default_factory=list)
    choices: list[list[str]] = field(default_factory=list)
    basenames: list[str] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)  # substrings no value may hold
    forbidden_prefixes: list[str] = field(default_factory=list)
    forbidden_suffixes: list[str] = field(default_factory=list)
    seeds: list[str] = field(default_factory=list)  # ordering hints

    def narrow(self, values: Iterable[str], source: str) -> None:
        allowed = set(values)
        self.exact = allowed if self.exact is None else self.exact & allowed
        self.exact_from = f"{self.exact_from}, {source}" if self.exact_from else source


def _shape(constraints: Sequence[Constraint]) -> _Shape:
    shape = _Shape()
    for c in constraints:
        condition, wanted = c.canonical()
        data = c.data
        if wanted:
            _add_wanted(shape, condition, data, str(c))
        else:
            _add_unwanted(shape, condition, data)
    return shape


def _add_wanted(shape: _Shape, condition: int, data: str, source: str) -> None:
    if condition == IS or (condition == IMAGE and "\\" in data):
        shape.narrow([data], source)
    elif condition == IS_ANY:
        shape.narrow(list_tokens(data), source)
    elif condition == IMAGE:
        shape.basenames.append(data)
    elif condition == BEGIN_WITH:
        shape.prefixes.append(data)
    elif condition == END_WITH:
        shape.suffixes.append(data)
    elif condition == CONTAINS:
        shape.needles.append(data)
    elif condition == CONTAINS_ALL:
        shape.needles += list_needles(data)
    elif condition == CONTAINS_ANY:
        shape.choices.append(list_needles(data))
    elif condition == LESS_THAN:
        shape.seeds += _below(data)
    elif condition == MORE_THAN:
        shape.seeds += [data + "0", data + "~", *(_above(data))]


def _add_unwanted(shape: _Shape, condition: int, data: str) -> None:
    if condition == CONTAINS:
        shape.forbidden.append(data)
    elif condition == CONTAINS_ANY:
        shape.forbidden += list_needles(data)
    elif condition == BEGIN_WITH:
        shape.forbidden_prefixes.append(data)
    elif condition == END_WITH:
        shape.forbidden_suffixes.append(data)
    elif condition == LESS_THAN:  # at least data
        shape.seeds += [data, data + "0", data + "a", *_above(data)]
    elif condition == MORE_THAN:  # at most data
        shape.seeds += [data, *_below(data)]


def _below(data: str) -> list[str]:
    out = [data[:i] for i in range(1, len(data))]
    out += [data[:i] + chr(ord(ch) - 1) for i, ch in enumerate(data) if ord(ch) > 0x21]
    return [*out, "!", "0"]


def _above(data: str) -> list[str]:
    return [data[:i] + chr(ord(ch) + 1) for i, ch in enumerate(data) if ord(ch) < 0x7E] + ["~"]


def solve_field(constraints: Iterable[Constraint], platform: Platform = "windows") -> FieldSolution:
    """A value satisfying every constraint (positive and negated), with Sysmon's semantics.

    The value is already folded (lowercase ASCII), so it can be put in an event as it is.
    """
    items = tuple(constraints)
    tests = [c.test(platform) for c in items]

    def ok(value: str) -> bool:
        return bool(value) and all(t(value) for t in tests)

    shape = _shape(items)
    if shape.exact is not None:
        for value in sorted(shape.exact):
            if ok(value):
                return FieldSolution(FOUND, value)
        return FieldSolution(IMPOSSIBLE, reason=f"no value {shape.exact_from} allows passes the others")
    proof = _refute(shape)
    if proof is not None:
        return FieldSolution(IMPOSSIBLE, reason=proof)
    for value in _candidates(shape):
        if ok(value):
            return FieldSolution(FOUND, value)
    return FieldSolution(UNKNOWN, reason="no candidate satisfied every constraint")


def _chain(parts: list[str], *, suffix: bool) -> str | None:
    """The longest part, when every other part is a prefix (suffix) of it; None on a conflict."""
    if not parts:
        return ""
    longest = max(parts, key=len)
    fits = longest.endswith if suffix else longest.startswith
    return longest if all(fits(p) for p in parts) else None


def _refute(shape: _Shape) -> str | None:
    """A reason no value can exist, when the positive parts force a contradiction."""
    prefix = _chain(shape.prefixes, suffix=False)
    if prefix is None:
        return f"two 'begin with' values disagree: {sorted(set(shape.prefixes))}"
    suffix = _chain(shape.suffixes, suffix=True)
    if suffix is None:
        return f"two 'end with' values disagree: {sorted(set(shape.suffixes))}"
    if len(set(shape.basenames)) > 1:
        return f"two 'image' file names disagree: {sorted(set(shape.basenames))}"
    if shape.basenames and suffix and not _name_fits(shape.basenames[0], suffix):
        return f"a value ending with {suffix!r} cannot have the file name {shape.basenames[0]!r}"
    if "" in shape.forbidden or "" in shape.forbidden_prefixes or "" in shape.forbidden_suffixes:
        return "an empty needle is in every value, so it cannot be excluded"
    return _forced_forbidden(prefix, suffix, shape.needles, shape)


def _name_fits(name: str, suffix: str) -> bool:
    """Can a value ending with ``suffix`` have the file name ``name`` (text after the last ``\\``)?"""
    if "\\" in suffix:
        return suffix[suffix.rfind("\\") + 1:] == name
    return name.endswith(suffix)


def _forced_forbidden(prefix: str, suffix: str, needles: list[str], shape: _Shape) -> str | None:
    forced = [prefix, suffix, *needles]
    for bad in shape.forbidden:
        carrier = next((part for part in forced if bad in part), None)
        if carrier is not None:
            return f"every value holds {carrier!r}, which contains the excluded {bad!r}"
    for bad in shape.forbidden_prefixes:
        if prefix.startswith(bad):
            return f"every value begins with {prefix!r}, so it begins with {bad!r}"
    for bad in shape.forbidden_suffixes:
        if suffix.endswith(bad):
            return f"every value ends with {suffix!r}, so it ends with {bad!r}"
    return _all_choices_refuted(prefix, suffix, needles, shape)


def _all_choices_refuted(prefix: str, suffix: str, needles: list[str], shape: _Shape) -> str | None:
    # A ``contains any`` every needle of which is itself forbidden cannot be met.
    for options in shape.choices:
        if options and all(any(bad in o for bad in shape.forbidden) for o in options):
            return f"every needle of a 'contains any' ({';'.join(options)}) holds an excluded text"
    return None


def _candidates(shape: _Shape) -> Iterator[str]:
    prefix = _chain(shape.prefixes, suffix=False) or ""
    suffix = _chain(shape.suffixes, suffix=True) or ""
    options = [o[:_MAX_CHOICES] for o in shape.choices]
    images = [("\\" + shape.basenames[0], shape.basenames[0])] if shape.basenames else []
    for picks in itertools.islice(itertools.product(*options, *images), _MAX_BRANCHES):
        chosen = list(picks[: len(options)])
        image = picks[len(options):]
        if image and image[0] == shape.basenames[0]:
            yield image[0]  # the value is the bare file name
            continue
        tail = image[0] + suffix if image else suffix
        yield from _assemble(prefix, [*shape.needles, *chosen], tail, shape.seeds)


def _assemble(prefix: str, needles: list[str], suffix: str, seeds: list[str]) -> Iterator[str]:
    middle = _needed(needles, prefix + "\0" + suffix)
    if not prefix and not middle and not suffix:
        yield from seeds
        yield from _PLAIN_SEEDS
        return
    yield _overlap(_overlap_all(prefix, middle), suffix)
    for sep in _SEPARATORS:
        yield prefix + sep + sep.join(middle) + (sep if middle else "") + suffix
        yield prefix + sep.join(middle) + sep + suffix
    for seed in seeds:
        yield prefix + seed + suffix
        yield prefix + "".join(middle) + seed + suffix


def _needed(needles: list[str], around: str) -> list[str]:
    """The needles not already inside the fixed parts or another needle, longest first."""
    unique = sorted({n for n in needles if n and n not in around}, key=lambda n: (-len(n), n))
    return [n for i, n in enumerate(unique) if not any(n in other for other in unique[:i])]


def _overlap(left: str, right: str) -> str:
    """``left`` followed by ``right``, sharing their longest overlap."""
    if right in left and left.endswith(right):
        return left
    for k in range(min(len(left), len(right)), 0, -1):
        if left.endswith(right[:k]):
            return left + right[k:]
    return left + right


def _overlap_all(start: str, parts: list[str]) -> str:
    out = start
    for part in parts:
        if part not in out:
            out = _overlap(out, part)
    return out


def implies(a: Constraint, b: Constraint, platform: Platform = "windows") -> bool:
    """Proven: every value ``a`` accepts, ``b`` accepts too (False also when not proven)."""
    return solve_field([a, b.negate()], platform).status == IMPOSSIBLE


def disjoint(a: Constraint, b: Constraint, platform: Platform = "windows") -> bool:
    """Proven: no value satisfies both ``a`` and ``b``."""
    return solve_field([a, b], platform).status == IMPOSSIBLE


__all__ = ["FOUND", "IMPOSSIBLE", "UNKNOWN", "FieldSolution", "Status", "disjoint", "implies", "solve_field"]
