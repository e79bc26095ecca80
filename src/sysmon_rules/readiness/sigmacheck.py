"""Does an event satisfy a Sigma detection? Evaluated on pySigma's own tree, apart from the solver.

Independent of ``detection.py`` on purpose: strings go through pySigma's conversion to a regex
(``SigmaString.to_regex``'s own reading of wildcards and escapes) and are matched over the whole
value, case-insensitively as Sigma specifies (``cased`` ones case-sensitively); regular expressions
are searched with their flags. A field the event lacks reads as Sysmon writes an empty value
(``-``), which is what ``null`` and ``''`` match: Sysmon writes no empty string, its empty value is
``-``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from typing import cast

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
)
from sigma.types import (
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaType,
)

from ..boundedcache import bounded_cache, text_cost

_EMPTY = ("", "-")


def sigma_matches(tree: object, event_id: int, fields: Mapping[str, str]) -> bool:
    """The truth of a pySigma condition tree for an event (Sigma field names -> raw values)."""
    # The leaf first: its class is a plain one, the others are ABCs (a slower isinstance; the
    # exact classes are looked up first for the same reason).
    if isinstance(tree, ConditionFieldEqualsValueExpression):
        name = str(tree.field)
        value = str(event_id) if name.lower() == "eventid" else _lookup(fields, name)
        if type(tree.value) is not SigmaString and isinstance(tree.value, SigmaFieldReference):
            # the same value as another field (case folded)
            other = str(event_id) if tree.value.field.lower() == "eventid" else _lookup(fields, tree.value.field)
            return value.lower() == other.lower()
        return value_matches(tree.value, value)
    combine = _COMBINE.get(type(tree))
    if combine is not None:
        return combine(sigma_matches(a, event_id, fields) for a in cast("ConditionAND | ConditionOR", tree).args)
    if isinstance(tree, ConditionAND):
        return all(sigma_matches(a, event_id, fields) for a in tree.args)
    if isinstance(tree, ConditionOR):
        return any(sigma_matches(a, event_id, fields) for a in tree.args)
    if isinstance(tree, ConditionNOT):
        return not sigma_matches(tree.args[0], event_id, fields)
    raise TypeError(f"cannot evaluate {type(tree).__name__}")


_COMBINE: dict[type, Callable[[Iterable[bool]], bool]] = {ConditionAND: all, ConditionOR: any}


def text_fields(fields: Mapping[str, object]) -> dict[str, str]:
    """Event fields as the text Sysmon writes (a typed value as its string, ``None`` as ``-``)."""
    return {k: "-" if v is None else v if isinstance(v, str) else str(v) for k, v in fields.items()}


def value_matches(expected: SigmaType, value: str) -> bool:
    if isinstance(expected, SigmaExpansion):
        return any(value_matches(v, value) for v in expected.values)
    if isinstance(expected, SigmaCasedString):  # |cased: the whole value, case-sensitively
        return _cased(_regex_text(expected)).fullmatch(value) is not None
    if isinstance(expected, SigmaString):
        if not expected.s:  # '': the empty value, which Sysmon writes "-"
            return value in _EMPTY
        return _string_regex(expected).fullmatch(value) is not None
    if isinstance(expected, SigmaNumber):
        return value == str(expected.number)
    if isinstance(expected, SigmaBool):
        return value.lower() == ("true" if expected.boolean else "false")
    if isinstance(expected, SigmaNull):
        return value in _EMPTY
    if isinstance(expected, SigmaExists):
        return (value not in _EMPTY) == expected.exists
    if isinstance(expected, SigmaRegularExpression):
        return _regex(str(expected.regexp), frozenset(expected.flags)).search(value) is not None
    if isinstance(expected, SigmaCIDRExpression):
        try:
            return ipaddress.ip_address(value) in expected.network
        except ValueError:
            return False
    raise TypeError(f"cannot evaluate a {type(expected).__name__}")


def _lookup(fields: Mapping[str, str], name: str) -> str:
    if name in fields:
        return fields[name]
    lowered = name.lower()
    return next((v for k, v in fields.items() if k.lower() == lowered), "-")


# pySigma's to_regex is costly and rule values are matched against many events: one regex per
# value object (kept alive with it, so an id is never reused while its entry stands).
_REGEXES: dict[int, tuple[SigmaString, re.Pattern[str]]] = {}
_REGEXES_MAX = 65_536


# Equal strings of different rules (``*\\cmd.exe`` in hundreds) converted once: to_regex reads
# only the parts. A part that is a placeholder is not hashable: that string goes by its object.
_BY_PARTS: dict[tuple[type, tuple[object, ...]], re.Pattern[str]] = {}


def _string_regex(value: SigmaString) -> re.Pattern[str]:
    found = _REGEXES.get(id(value))
    if found is not None and found[0] is value:
        return found[1]
    if len(_REGEXES) >= _REGEXES_MAX:
        _REGEXES.clear()
        _BY_PARTS.clear()
    parts: tuple[type, tuple[object, ...]] | None = (type(value), tuple(value.s))
    try:
        pattern = _BY_PARTS.get(parts)  # type: ignore[arg-type]
    except TypeError:
        parts, pattern = None, None
    if pattern is None:
        pattern = _compiled(_regex_text(value))
        if parts is not None:
            _BY_PARTS[parts] = pattern
    _REGEXES[id(value)] = (value, pattern)
    return pattern


def _regex_text(value: SigmaString) -> str:
    """The regex ``SigmaString.to_regex`` makes (pySigma's own reading of wildcards and escapes,
    the same arguments in pySigma 1.x and 2.x), without the compile its result object does to
    validate it: this module compiles the text itself, so each pattern was compiled twice."""
    return value.convert(escape_char="\\", wildcard_multi=".*", wildcard_single=".",
                         add_escaped=".*+?^$[](){}\\|")


@bounded_cache(32 << 20, text_cost, regexes=True)  # keyed by rule content: bounded by size
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.DOTALL)


@bounded_cache(32 << 20, text_cost, regexes=True)
def _cased(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.DOTALL)


@bounded_cache(32 << 20, text_cost, regexes=True)
def _regex(pattern: str, flags: frozenset[SigmaRegularExpressionFlag]) -> re.Pattern[str]:
    bits = 0
    for flag in flags:
        bits |= SigmaRegularExpression.sigma_to_python_flags.get(flag, 0)
    return re.compile(pattern, bits)
