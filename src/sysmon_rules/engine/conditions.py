"""The sixteen filter conditions, with the exact string semantics of Sysmon's matcher.

Sysmon lowercases rule data once when it loads a blob and folds the event value while comparing;
both folds touch ASCII letters only (``towlower`` in the C locale on Windows, ``WideTolower`` on
Linux). Here every value reaches a test already folded to lowercase, and each condition is
compiled once into a closure over the folded rule data.

List conditions split the data on ``;`` with no trimming. An empty token is special: the matcher
passes it as "length 0", which its substring search reads as "up to the terminator", so the token
becomes the whole remainder of the data (``a;;b`` searches for ``;b``; a trailing ``;`` searches
for the empty string and so matches every value).
"""

from __future__ import annotations

import string
from collections.abc import Callable

from ..schema import ascii_lower
from ..schema.model import Platform as Platform  # its old home; schema.model is the one place

Test = Callable[[str], bool]

# MatchStatus, in Sysmon's order.
MATCH = 0
NO_MATCH = 1
FAILED = 2

# FilterType numbers (schema.CONDITIONS order, fixed from binary 14.0 on).
IS, IS_NOT, CONTAINS, CONTAINS_ANY, IS_ANY, CONTAINS_ALL, EXCLUDES = 0, 1, 2, 3, 4, 5, 6
EXCLUDES_ANY, EXCLUDES_ALL, BEGIN_WITH, END_WITH, LESS_THAN, MORE_THAN = 7, 8, 9, 10, 11, 12
IMAGE, NOT_BEGIN_WITH, NOT_END_WITH = 13, 14, 15
ENVIRONMENT_BIT = 0x40000000  # set on load for data holding '%' (Windows user mode only)
CONDITION_MASK = 0xFFFF  # FilterValue(): the condition proper

_TO_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
fold = ascii_lower  # rule data and event values fold as names do: ASCII letters only


def fold_upper(text: str) -> str:
    """Uppercase ASCII letters only: Linux ``WideStrcasecmp`` compares uppercased units."""
    return text.upper() if text.isascii() else text.translate(_TO_UPPER)


def c_string(text: str) -> str:
    """The text a C reader sees: everything before the first NUL."""
    cut = text.find("\0")
    return text if cut < 0 else text[:cut]


def folded_value(raw: str) -> str:
    """An event value as every test sees it: cut at NUL, folded, and ``-`` when empty or absent."""
    if "\0" in raw:
        raw = c_string(raw)
    return fold(raw) if raw else "-"


def list_needles(data: str, every: bool = False) -> list[str]:
    """The substrings a ``;`` list searches for, empty tokens widened to the remainder.

    A widened token is ``data[i:]``, and so is the last token: these suffixes contain one another,
    and a value containing one contains every shorter one. So "any" needs only the shortest and
    ``every`` ("all") only the longest: exact, and linear in ``data`` where keeping each widened
    copy took n**2/2 characters (60,000 ``;`` needed 1.8 GB).
    """
    needles: list[str] = []
    start, widened = 0, -1
    while True:
        end = data.find(";", start)
        if end < 0:
            suffix = start if not every or widened < 0 else widened
            needles.append(data[suffix:])
            return needles
        if end > start:
            needles.append(data[start:end])
        elif widened < 0:  # an empty token searches up to the end of the data: the rest from here
            widened = start
        start = end + 1


def list_tokens(data: str) -> list[str]:
    """The exact tokens of a ``;`` list (``is any`` compares with a length, so no widening)."""
    return data.split(";")


def _utf16_key(text: str) -> str | bytes:
    # Sysmon compares UTF-16 code units; Python compares code points. They only disagree when a
    # character above U+FFFF (a surrogate pair) meets one in U+E000..U+FFFF.
    if text.isascii() or max(text) <= "\uffff":
        return text
    return text.encode("utf-16-be", "surrogatepass")


def ordering_key(folded: str, platform: Platform) -> str | bytes:
    """The key ``less than`` / ``more than`` compare: Windows lowercases, Linux uppercases."""
    return _utf16_key(fold_upper(folded) if platform == "linux" else folded)


def contains(value: str, needle: str) -> bool:
    """Sysmon's substring search: an empty value never contains anything, not even ''."""
    return needle in value if value else False


def basename(value: str) -> str:
    """The text after the last backslash (the whole value when there is none)."""
    return value[value.rfind("\\") + 1 :]


def compile_test(condition: int, data: str, platform: Platform = "windows") -> Test | None:
    """A predicate over a folded event value for one filter, or None when Sysmon would fail it.

    ``condition`` is the FilterType without the environment bit; ``data`` is the rule data
    already folded (and environment-expanded where that applies).
    """
    maker = _MAKERS.get(condition)
    return None if maker is None else maker(data, platform)


def _is(data: str, _p: Platform) -> Test:
    return data.__eq__


def _is_not(data: str, _p: Platform) -> Test:
    return data.__ne__


def _contains(data: str, _p: Platform) -> Test:
    return lambda v: contains(v, data)


def _excludes(data: str, _p: Platform) -> Test:
    return lambda v: not contains(v, data)


def _contains_any(data: str, _p: Platform) -> Test:
    needles = tuple(list_needles(data))
    # ``contains`` for each needle, the loop in C: an empty value contains nothing
    return lambda v: bool(v) and any(map(v.__contains__, needles))


def _excludes_any(data: str, _p: Platform) -> Test:
    # Named "excludes any", it matches when *no* token is present (the documentation swaps them).
    needles = tuple(list_needles(data))
    return lambda v: not (v and any(map(v.__contains__, needles)))


def _contains_all(data: str, _p: Platform) -> Test:
    needles = tuple(list_needles(data, every=True))
    return lambda v: all(contains(v, n) for n in needles)


def _excludes_all(data: str, _p: Platform) -> Test:
    # Named "excludes all", it matches when *some* token is missing.
    needles = tuple(list_needles(data, every=True))
    return lambda v: not all(contains(v, n) for n in needles)


def _is_any(data: str, _p: Platform) -> Test:
    return frozenset(list_tokens(data)).__contains__


def _begin_with(data: str, _p: Platform) -> Test:
    return lambda v: v.startswith(data)


def _not_begin_with(data: str, _p: Platform) -> Test:
    return lambda v: not v.startswith(data)


def _end_with(data: str, _p: Platform) -> Test:
    return lambda v: v.endswith(data)


def _not_end_with(data: str, _p: Platform) -> Test:
    return lambda v: not v.endswith(data)


def _less_than(data: str, platform: Platform) -> Test:
    key = ordering_key(data, platform)
    return lambda v: _compare(ordering_key(v, platform), key) < 0


def _more_than(data: str, platform: Platform) -> Test:
    key = ordering_key(data, platform)
    return lambda v: _compare(ordering_key(v, platform), key) > 0


def _compare(left: str | bytes, right: str | bytes) -> int:
    if type(left) is not type(right):  # one side has a surrogate pair: compare code units
        left = left if isinstance(left, bytes) else left.encode("utf-16-be", "surrogatepass")
        right = right if isinstance(right, bytes) else right.encode("utf-16-be", "surrogatepass")
    return (left > right) - (left < right)  # type: ignore[operator]


def _image(data: str, _p: Platform) -> Test:
    # Without a backslash in the rule, only the value's file name is compared.
    if "\\" in data:
        return data.__eq__
    return lambda v: basename(v) == data


_MAKERS: dict[int, Callable[[str, Platform], Test]] = {
    IS: _is, IS_NOT: _is_not, CONTAINS: _contains, CONTAINS_ANY: _contains_any, IS_ANY: _is_any,
    CONTAINS_ALL: _contains_all, EXCLUDES: _excludes, EXCLUDES_ANY: _excludes_any,
    EXCLUDES_ALL: _excludes_all, BEGIN_WITH: _begin_with, END_WITH: _end_with, LESS_THAN: _less_than,
    MORE_THAN: _more_than, IMAGE: _image, NOT_BEGIN_WITH: _not_begin_with, NOT_END_WITH: _not_end_with,
}  # fmt: skip
