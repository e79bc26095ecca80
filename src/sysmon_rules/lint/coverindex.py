"""Earlier filters that may cover a later one, found by lookup instead of by trying every pair.

``covers(a, b)`` (cover.py) holds only when ``b``'s value is, starts with, ends with or contains
``a``'s value (or ``a``'s file name is ``b``'s): so the candidates for ``b`` are found among its
prefixes, suffixes and substrings of the lengths ``a`` values have. Linear in the filters, not
quadratic (8,000 filters in one set took 77 s the pairwise way).
"""

from __future__ import annotations

from collections import defaultdict

from ..engine.conditions import basename, fold
from ..engine.cover import cond_name
from ..ruletable import RuleFilter


class CoverIndex:
    """Filters added so far (with their order), queried for those that may cover a new one."""

    def __init__(self) -> None:
        self.equal: dict[str, list[int]] = defaultdict(list)
        self.prefix: dict[str, list[int]] = defaultdict(list)
        self.suffix: dict[str, list[int]] = defaultdict(list)
        self.inside: dict[str, list[int]] = defaultdict(list)
        self.inside_lengths: set[int] = set()
        self.prefix_lengths: set[int] = set()
        self.suffix_lengths: set[int] = set()
        self.image: dict[str, list[int]] = defaultdict(list)

    def add(self, order: int, flt: RuleFilter) -> None:
        name, value = cond_name(flt), fold(flt.value)
        if name == "is":
            self.equal[value].append(order)
        elif name == "is any":
            for token in set(value.split(";")):
                self.equal[token].append(order)
        elif name == "begin with":
            self.prefix[value].append(order)
            self.prefix_lengths.add(len(value))
        elif name == "end with":
            self.suffix[value].append(order)
            self.suffix_lengths.add(len(value))
        elif name in ("contains", "contains any"):
            tokens = value.split(";") if name == "contains any" else [value]
            for token in set(tokens):
                self.inside[token].append(order)
                self.inside_lengths.add(len(token))
        elif name == "image" and "\\" not in value:
            self.image[value].append(order)

    def inside_of(self, value: str) -> list[int]:
        """Orders of the 'contains' tokens inside ``value``: by its substrings or by the tokens,
        whichever is fewer to try."""
        slices = sum(len(value) - n + 1 for n in self.inside_lengths if n <= len(value))
        if len(self.inside) <= slices:
            return [o for token, orders in self.inside.items() if token in value for o in orders]
        return [o for n in self.inside_lengths for i in range(len(value) - n + 1)
                for o in self.inside.get(value[i:i + n], ())]

    def candidates(self, flt: RuleFilter) -> list[int]:
        """Orders of the added filters that may cover ``flt``, ascending (cover.covers decides)."""
        name, value = cond_name(flt), fold(flt.value)
        found: set[int] = set()
        if name == "is":
            found.update(self.equal.get(value, ()))
        if name in ("is", "begin with"):  # the prefixes of the lengths 'begin with' values have
            for n in self.prefix_lengths:
                if n <= len(value):
                    found.update(self.prefix.get(value[:n], ()))
        if name in ("is", "end with"):
            for n in self.suffix_lengths:
                if n <= len(value):
                    found.update(self.suffix.get(value[len(value) - n:], ()))
        if name in ("is", "contains", "begin with", "end with"):
            found.update(self.inside_of(value))
        if name == "is":
            found.update(self.image.get(basename(value), ()))
        elif name == "image" and "\\" not in value:
            found.update(self.image.get(value, ()))
        return sorted(found)
