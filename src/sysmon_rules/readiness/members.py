"""Many plain tests of one field, OR-ed (a long include or exclude list), as one indexed test.

A config with 50,000 ``end with`` excludes on QueryName would otherwise be a disjunction of
50,000 atoms: the search would branch 50,000 ways and carry 50,000 negations. :class:`Members`
holds the values by kind (``is``, ``begin with``, ``end with``, ``contains``) in hash sets keyed
by length and sorted lists, so that

- ``matches(value)`` costs one lookup per distinct length (plus one regex for needles);
- ``forced(prefix, suffix, literals)`` finds a member every value with those parts meets (a proof
  that "none of them" is impossible), by the same lookups;
- ``compatible(...)`` lists the members a value with a given exact value, prefix or suffix can
  still meet; the others are proven incompatible, so trying these alone is exhaustive.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

KINDS = ("eq", "prefix", "suffix", "contains")
GROUP_AT = 64  # plain filters on one field in one OR set from which they become one Members test


@dataclass(frozen=True, eq=False)
class Members:
    """``eq``/``prefixes``/``suffixes``/``needles``: folded rule data, any one of which matches."""

    eq: frozenset[str] = frozenset()
    prefixes: frozenset[str] = frozenset()
    suffixes: frozenset[str] = frozenset()
    needles: frozenset[str] = frozenset()
    _sorted_prefixes: list[str] = field(default_factory=list, repr=False)
    _sorted_reversed: list[str] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._sorted_prefixes.extend(sorted(self.prefixes))
        self._sorted_reversed.extend(sorted(s[::-1] for s in self.suffixes))

    def __len__(self) -> int:
        return len(self.eq) + len(self.prefixes) + len(self.suffixes) + len(self.needles)

    def __str__(self) -> str:
        return f"any of {len(self)} values"

    @cached_property
    def _prefix_lengths(self) -> tuple[int, ...]:
        return tuple(sorted({len(p) for p in self.prefixes}))

    @cached_property
    def _suffix_lengths(self) -> tuple[int, ...]:
        return tuple(sorted({len(s) for s in self.suffixes}))

    @cached_property
    def _needle_regex(self) -> re.Pattern[str] | None:
        if not self.needles:
            return None
        return re.compile("|".join(re.escape(n) for n in sorted(self.needles, key=len, reverse=True)))

    def matches(self, value: str) -> bool:
        """Does any member match the folded ``value``?"""
        return value in self.eq or self.prefix_of(value) is not None or self.suffix_of(value) is not None \
            or self.needle_in(value) is not None

    def prefix_of(self, value: str) -> str | None:
        """A member prefix that ``value`` starts with."""
        for n in self._prefix_lengths:
            if n > len(value):
                break
            if value[:n] in self.prefixes:
                return value[:n]
        return None

    def suffix_of(self, value: str) -> str | None:
        """A member suffix that ``value`` ends with."""
        for n in self._suffix_lengths:
            if n > len(value):
                break
            if value[len(value) - n:] in self.suffixes:
                return value[len(value) - n:]
        return None

    def needle_in(self, value: str) -> str | None:
        regex = self._needle_regex
        found = regex.search(value) if regex is not None else None
        return found.group(0) if found is not None else None

    def forced(self, prefix: str, suffix: str, literals: list[str]) -> str | None:
        """A member that every value starting with ``prefix``, ending with ``suffix`` and holding
        each of ``literals`` matches (so such a value cannot avoid them all), or None."""
        if prefix and (found := self.prefix_of(prefix)) is not None:
            return f"begins with {found!r}"
        if suffix and (found := self.suffix_of(suffix)) is not None:
            return f"ends with {found!r}"
        for text in (prefix, suffix, *literals):
            if text and (found := self.needle_in(text)) is not None:
                return f"contains {found!r}"
        return None

    def compatible(self, eq: str | None, prefix: str, suffix: str) -> Iterator[tuple[str, str]]:
        """(kind, data) of the members a value with exact value ``eq`` (or else this ``prefix`` and
        ``suffix``) can still meet; every member left out cannot be met by such a value."""
        if eq is not None:
            yield from (("eq", eq),) if eq in self.eq else ()
            if (p := self.prefix_of(eq)) is not None:
                yield "prefix", p
            if (s := self.suffix_of(eq)) is not None:
                yield "suffix", s
            if (n := self.needle_in(eq)) is not None:
                yield "contains", n
            return
        yield from (("eq", v) for v in sorted(self.eq) if v.startswith(prefix) and v.endswith(suffix))
        yield from (("prefix", p) for p in _related(self.prefixes, self._sorted_prefixes, prefix, False))
        yield from (("suffix", s) for s in _related(self.suffixes, self._sorted_reversed, suffix, True))
        yield from (("contains", n) for n in sorted(self.needles))


def _related(members: frozenset[str], ordered: list[str], part: str, reverse: bool) -> Iterator[str]:
    """Members that are a prefix of ``part`` or that ``part`` is a prefix of (reversed: suffixes)."""
    if not part:
        yield from (item[::-1] if reverse else item for item in ordered)
        return
    key = part[::-1] if reverse else part
    for n in range(1, len(key) + 1):  # members ``part`` starts (ends) with
        head = key[:n]
        if (head[::-1] if reverse else head) in members and n < len(key):
            yield head[::-1] if reverse else head
    start = bisect.bisect_left(ordered, key)  # members starting (ending) with ``part``, itself included
    for item in ordered[start:]:
        if not item.startswith(key):
            break
        yield item[::-1] if reverse else item
