"""Checks of one filter's condition and value (what the text itself gets wrong)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..blob.layout import AGGREGATION_NAME_UNITS
from ..configwalk import filters_of
from ..errors import Diagnostic
from ..model import Config, Filter, Rule
from ..schema import LIST_CONDITIONS, ascii_lower
from .catalog import RULES

_ENV = re.compile(r"%[A-Za-z_][A-Za-z0-9_()]*%")
_AGGREGATION_NAME_UNITS = AGGREGATION_NAME_UNITS - 1  # the terminator takes the last WCHAR


def _finding(code: str, message: str, flt: Filter | Rule, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, RULES[code].severity, message, flt.location, hint)


def _condition(flt: Filter) -> str:
    return ascii_lower(flt.condition) if flt.condition else "is"


# A trailing space can be meant where the value is a prefix or a piece ("...\\Program Files ").
_PREFIX_LIKE = frozenset({"begin with", "not begin with", "contains", "excludes"})


def _stray_space(condition: str, value: str) -> bool:
    """Leading white space, a line break or tab at the end, or a trailing space where the whole
    value (or a list item) must match: indentation that became part of the value."""
    items = value.split(";") if condition in LIST_CONDITIONS else [value]
    for item in items:
        if item[:1].isspace() or item[-1:] in ("\n", "\t", "\r"):
            return True
        if item.endswith(" ") and condition not in _PREFIX_LIKE:
            return True
    return False


# Fields that always hold a full path (or a pseudo-process name such as "System", which has no
# extension): 'is' with a bare file name there compares it with the whole path and never matches.
PATH_FIELDS = frozenset({"Image", "ParentImage", "SourceImage", "TargetImage", "ImageLoaded", "TargetFilename"})
_BARE_FILE = re.compile(r"[^\\/:]+\.[A-Za-z0-9]{2,4}")


def _bare_names(condition: str, flt: Filter) -> list[str]:
    if flt.field not in PATH_FIELDS or condition not in ("is", "is any"):
        return []
    items = flt.value.split(";") if condition == "is any" else [flt.value]
    return [i for i in items if _BARE_FILE.fullmatch(i)]


def check_filter(flt: Filter) -> Iterator[Diagnostic]:
    condition, value = _condition(flt), flt.value
    where = f"<{flt.field} condition=\"{condition}\">"
    if condition in LIST_CONDITIONS:
        items = value.split(";")
        if len(items) > 1 and "" in items:
            yield _finding("empty-list-item", f"{where} has an empty item in its ';' list", flt,
                           "remove the trailing ';' or the doubled ';;'")
        if condition in {"contains all", "excludes all"} and ";" not in value:
            simple = "contains" if condition == "contains all" else "excludes"
            yield _finding("single-token-list", f"{where} has a single item", flt, f"use '{simple}'")
    elif ";" in value and not condition.startswith(("less", "more")):
        yield _finding("semicolon-in-single-value",
                       f"{where} compares the whole text, ';' included: {value!r}", flt,
                       f"use '{'is any' if condition == 'is' else 'contains any'}' for a list")
    if condition in {"less than", "more than"} and value.strip().isdigit():
        yield _finding("string-compare-number", f"{where} compares {value!r} as text, not as a number", flt)
    if _ENV.search(value):
        yield _finding("environment-variable", f"{where} holds {_ENV.search(value).group()}"  # type: ignore[union-attr]
                       " which only Windows user-mode Sysmon expands", flt)
    if _stray_space(condition, value):
        yield _finding("whitespace-in-value", f"{where} value {value!r} has white space at its ends", flt,
                       "Sysmon does not trim values")
    bare = _bare_names(condition, flt)
    if bare:
        yield _finding("is-without-path", f"{where}{bare[0]} never matches: {flt.field} holds the full path "
                       f"(C:\\...\\{bare[0]}), and '{condition}' compares all of it", flt,
                       f"use condition=\"image\" (file name) or 'end with' \\{bare[0]}")
    if value == "":
        yield _finding("empty-value", f"{where} has an empty value (an absent field reads as '-')", flt)


def check_values(config: Config) -> Iterator[Diagnostic]:
    for _group, ev in config.event_rules():
        seen_rules: set[int] = set()
        for rule, flt in filters_of(ev):
            yield from check_filter(flt)
            if rule is not None and id(rule) not in seen_rules:
                seen_rules.add(id(rule))
                if rule.name and len(rule.name.encode("utf-16-le")) // 2 > _AGGREGATION_NAME_UNITS:
                    yield _finding("long-rule-name", f"<Rule> name is {len(rule.name)} characters; Sysmon keeps 127",
                                   rule)
