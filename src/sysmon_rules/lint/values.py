"""Checks of one filter's condition and value (what the text itself gets wrong)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..blob.layout import AGGREGATION_NAME_UNITS
from ..configwalk import filters_of
from ..engine.conditions import IS_NOT, compile_test, fold
from ..errors import Diagnostic, Location
from ..model import Config, Filter, Rule, RuleGroup
from ..schema import LIST_CONDITIONS, ascii_lower
from .catalog import RULES
from .finding import shown

_ENV = re.compile(r"%[A-Za-z_][A-Za-z0-9_()]*%")
_AGGREGATION_NAME_UNITS = AGGREGATION_NAME_UNITS - 1  # the terminator takes the last WCHAR


def _finding(code: str, message: str, flt: Filter | Rule, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, RULES[code].severity, message, flt.location, hint)


def _condition(flt: Filter) -> str:
    return ascii_lower(flt.condition) if flt.condition else "is"


# A trailing space can be meant where the value is a prefix or a piece ("...\\Program Files ").
_PREFIX_LIKE = frozenset({"begin with", "not begin with", "contains", "excludes"})


def _stray_space(condition: str, value: str) -> str | None:
    """The first item (the value itself unless a ';' list) with leading white space, a line break or
    tab at the end, or a trailing space where the whole item must match: indentation or a space
    after ';' that became part of the value."""
    items = value.split(";") if condition in LIST_CONDITIONS else [value]
    for item in items:
        if item[:1].isspace() or item[-1:] in ("\n", "\t", "\r"):
            return item
        if item.endswith(" ") and condition not in _PREFIX_LIKE:
            return item
    return None


# Fields that always hold a full path (or a pseudo-process name such as "System", which has no
# extension): 'is' with a bare file name there compares it with the whole path and never matches.
PATH_FIELDS = frozenset({"Image", "ParentImage", "SourceImage", "TargetImage", "ImageLoaded", "TargetFilename"})
_BARE_FILE = re.compile(r"[^\\/:]+\.[A-Za-z0-9]{2,4}")


def _bare_names(condition: str, flt: Filter) -> list[str]:
    if flt.field not in PATH_FIELDS or condition not in ("is", "is any"):
        return []
    items = flt.value.split(";") if condition == "is any" else [flt.value]
    return [i for i in items if _BARE_FILE.fullmatch(i)]


def _always_true_is_not(condition: str, flt: Filter) -> str | None:
    """A full path holding the bare file name that 'is not' differs from: the engine's own test
    confirms it is true there (and so on every path the field can hold)."""
    if condition != "is not" or flt.field not in PATH_FIELDS or not _BARE_FILE.fullmatch(flt.value):
        return None
    example = "C:\\Windows\\System32\\" + flt.value
    test = compile_test(IS_NOT, fold(flt.value))
    return example if test is not None and test(fold(example)) else None


# RuleName convention of sysmon-modular and its followers, which SIEM parsers split on ',' and '=':
# "technique_id=T1234,technique_name=Name" (a sub-technique is T1234.001).
_TECHNIQUE_ID = re.compile(r"T\d{4}(\.\d{3})?")
_CONVENTION = re.compile(r"(^|,)\s*technique(_id)?\s*=", re.IGNORECASE)


def technique_problem(name: str) -> str | None:
    """What is wrong with a RuleName that follows the technique convention (None: nothing, or
    a name that does not follow it)."""
    if not _CONVENTION.search(name):
        return None
    pairs = [part.split("=", 1) for part in name.split(",")]
    for pair in pairs:
        if len(pair) == 1:
            return f"the part {shown(pair[0])} is no key=value pair (parsers split the name on ',' and '=')"
    keys = {key.strip(): value for key, value in pairs}
    if "technique" in keys and "technique_id" not in keys:
        return "the key is 'technique', not 'technique_id'"
    technique_id = keys.get("technique_id")
    if technique_id is not None and not _TECHNIQUE_ID.fullmatch(technique_id):
        return f"technique_id {shown(technique_id)} is not a technique id such as T1234 or T1234.001"
    if "technique_name" in keys and not keys["technique_name"].strip():
        return "technique_name is empty"
    return None


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
                       f"{where} compares the whole text, ';' included: {shown(value)}", flt,
                       f"use '{'is any' if condition == 'is' else 'contains any'}' for a list")
    if condition in {"less than", "more than"} and value.strip().isdigit():
        yield _finding("string-compare-number", f"{where} compares {shown(value)} as text, not as a number", flt)
    if _ENV.search(value):
        yield _finding("environment-variable", f"{where} holds {_ENV.search(value).group()}"  # type: ignore[union-attr]
                       " which only Windows user-mode Sysmon expands", flt)
    stray = _stray_space(condition, value)
    if stray is not None:
        item = f"item {shown(stray)} of " if stray != value else ""
        yield _finding("whitespace-in-value", f"{where} {item}value {shown(value)} has white space at its "
                       f"{'start' if stray[:1].isspace() else 'end'}", flt,
                       "Sysmon does not trim values" + ("; write the list without a space after ';'"
                                                        if item and stray[:1] == " " else ""))
    bare = _bare_names(condition, flt)
    if bare:
        yield _finding("is-without-path", f"{where}{bare[0]} never matches: {flt.field} holds the full path "
                       f"(C:\\...\\{bare[0]}), and '{condition}' compares all of it", flt,
                       f"use condition=\"image\" (file name) or 'end with' \\{bare[0]}")
    example = _always_true_is_not(condition, flt)
    if example is not None:
        yield _finding("is-not-without-path", f"{where}{value} is true for every event, {example} included: "
                       f"{flt.field} holds the full path, which never equals a bare file name", flt,
                       f"use condition=\"not end with\" \\{value}")
    if value == "":
        yield _finding("empty-value", f"{where} has an empty value (an absent field reads as '-')", flt)


def _technique(element: str, name: str | None, where: Location) -> Iterator[Diagnostic]:
    problem = technique_problem(name) if name else None
    if problem is not None:
        code = "malformed-technique-name"
        yield Diagnostic(code, RULES[code].severity, f"{element} name {shown(name or '')}: {problem}", where,
                         "write technique_id=T1234,technique_name=Name (T1234.001 for a sub-technique)")


def check_values(config: Config) -> Iterator[Diagnostic]:
    seen_groups: set[int] = set()
    for group, ev in config.event_rules():
        if isinstance(group, RuleGroup) and id(group) not in seen_groups:
            seen_groups.add(id(group))
            yield from _technique("<RuleGroup>", group.name, group.location)
        seen_rules: set[int] = set()
        for rule, flt in filters_of(ev):
            yield from check_filter(flt)
            yield from _technique(f"<{flt.field}>", flt.name, flt.location)
            if rule is not None and id(rule) not in seen_rules:
                seen_rules.add(id(rule))
                yield from _technique("<Rule>", rule.name, rule.location)
                if rule.name and len(rule.name.encode("utf-16-le")) // 2 > _AGGREGATION_NAME_UNITS:
                    yield _finding("long-rule-name", f"<Rule> name is {len(rule.name)} characters; Sysmon keeps 127",
                                   rule)
