"""Values a single non-core atom accepts: a glob, regex or network instantiated with a filler.

Only candidates: the solver checks every one exactly, so a poor instance costs a search, never a
wrong answer.
"""

from __future__ import annotations

import ipaddress
import re
from re import _parser as sre  # the regex parser behind re (Python >= 3.11)
from typing import Any

from .formula import ANY_ONE, ANY_RUN, MARKERS, Atom

_MAX_DEPTH = 40


def instances(atom: Atom, filler: str) -> list[str]:
    """A few folded values ``atom`` (taken positively) should accept."""
    if atom.kind == "glob" and isinstance(atom.value, tuple):
        return ["".join(filler if p in MARKERS else p for p in atom.value),
                "".join("" if p == ANY_RUN else filler if p == ANY_ONE else p for p in atom.value)]
    if atom.kind == "regex" and isinstance(atom.value, re.Pattern):
        text = regex_instance(atom.value.pattern, filler)
        return [] if text is None else [text.lower(), text]
    if atom.kind == "cidr" and isinstance(atom.value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        network = atom.value
        hosts = [network.network_address, network.network_address + min(1, network.num_addresses - 1)]
        return [str(h) for h in hosts]
    return []


def regex_instance(pattern: str, filler: str) -> str | None:
    """A short string the regex ``pattern`` matches (searched, not anchored), or None."""
    try:
        tree = sre.parse(pattern)
    except (re.error, OverflowError, RecursionError):
        return None
    try:
        return _emit(list(tree), filler, 0)
    except (_Give, RecursionError):
        return None


class _Give(Exception):
    """The pattern uses something this small generator does not instantiate."""


def _emit(items: list[tuple[Any, Any]], filler: str, depth: int) -> str:
    if depth > _MAX_DEPTH:
        raise _Give
    out = []
    for op, av in items:
        out.append(_one(str(op), av, filler, depth))
    return "".join(out)


def _one(op: str, av: Any, filler: str, depth: int) -> str:
    if op == "LITERAL":
        return chr(av)
    if op == "ANY":
        return filler
    if op == "NOT_LITERAL":
        return next(c for c in filler + "xqz_0" if c != chr(av))
    if op == "CATEGORY":
        return _category(str(av))
    if op == "IN":
        return _member(av, filler)
    if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, _high, sub = av
        return str(_emit(list(sub), filler, depth + 1)) * max(int(low), 0)
    if op == "SUBPATTERN":
        sub = av[-1]
        return _emit(list(sub), filler, depth + 1)
    if op == "BRANCH":
        _, branches = av
        return _emit(list(branches[0]), filler, depth + 1)
    if op in ("AT", "ASSERT_NOT"):
        return ""  # anchors and negative lookarounds: the checker decides
    if op == "ATOMIC_GROUP":
        return _emit(list(av), filler, depth + 1)
    raise _Give


def _member(items: list[tuple[Any, Any]], filler: str) -> str:
    negate = False
    for op, av in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL" and not negate:
            return chr(av)
        elif name == "RANGE" and not negate:
            return chr(av[0])
        elif name == "CATEGORY" and not negate:
            return _category(str(av))
    if negate:
        excluded = {chr(av) for op, av in items if str(op) == "LITERAL"}
        return next(c for c in filler + "xqz_0" if c not in excluded)
    raise _Give


def _category(name: str) -> str:
    if name.startswith("CATEGORY_NOT"):
        return {"CATEGORY_NOT_DIGIT": "a", "CATEGORY_NOT_SPACE": "a", "CATEGORY_NOT_WORD": "-"}.get(name, "-")
    return {"CATEGORY_DIGIT": "0", "CATEGORY_SPACE": " ", "CATEGORY_WORD": "a"}.get(name, "a")
