"""When does one filter match every value another matches? (on the same field, case-insensitive)

Used by the linter to prove that a filter never decides (an earlier filter that covers it
decides first) and by the merge to prove that another module excludes every match of an include
filter. Only
conditions whose relation is plain string logic are compared; anything else is "not known to
cover", which keeps the lint rules free of false positives.
"""

from __future__ import annotations

from ..engine.conditions import fold as ascii_lower
from ..ruletable import RuleFilter
from ..schema import CONDITIONS

_IS, _CONTAINS, _BEGIN, _END, _IMAGE = "is", "contains", "begin with", "end with", "image"
_PLAIN = {_IS, _CONTAINS, _BEGIN, _END}


def cond_name(flt: RuleFilter) -> str:
    return CONDITIONS[flt.condition] if 0 <= flt.condition < len(CONDITIONS) else ""


def _tail(path: str) -> str:
    return path.rsplit("\\", 1)[-1]


def covers(a: RuleFilter, b: RuleFilter) -> bool:
    """True when every value ``b`` matches is matched by ``a`` (same field id assumed)."""
    ca, cb = cond_name(a), cond_name(b)
    x, y = ascii_lower(a.value), ascii_lower(b.value)
    if ca == _IS:
        return cb == _IS and x == y
    if ca == _CONTAINS:
        return cb in _PLAIN and x in y
    if ca == _BEGIN:
        return cb in {_IS, _BEGIN} and y.startswith(x)
    if ca == _END:
        return cb in {_IS, _END} and y.endswith(x)
    if ca == "contains any":
        tokens = x.split(";")
        return "" not in tokens and cb in _PLAIN and any(t in y for t in tokens)
    if ca == "is any":
        return cb == _IS and y in x.split(";")
    if ca == _IMAGE and "\\" not in x:
        return (cb == _IS and _tail(y) == x) or (cb == _IMAGE and "\\" not in y and y == x)
    return False


def same(a: RuleFilter, b: RuleFilter) -> bool:
    return (a.field_id, a.condition, a.aggregation_id) == (b.field_id, b.condition, b.aggregation_id) and \
        ascii_lower(a.value) == ascii_lower(b.value)


def witness(flt: RuleFilter) -> str | None:
    """A value the filter matches (for checking a proof with the evaluator), or None."""
    name = cond_name(flt)
    if name in _PLAIN:
        return flt.value
    if name == _IMAGE:
        return flt.value if "\\" in flt.value else "C:\\any\\" + flt.value
    return None
