"""A RuleTable compiled once for matching: folded data, one closure per filter, sub-groups cut.

Everything here is decided at load time, as Sysmon's ``ComputeQuickAccessTables`` does: rule
data is folded, environment-tagged data is expanded for the evaluator's one session, the
condition becomes a predicate, and the filter list is cut into items (a top-level filter, or a
run of filters sharing an aggregation id, which Sysmon checks as one sub-group).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..blob.layout import conditions_for
from ..ruletable import COMBINE_AND, COMBINE_OR, OnMatch, RuleFilter, RuleSet, opposite
from ..schema import CONDITIONS
from ..schema.model import Platform
from .conditions import (
    CONDITION_MASK,
    ENVIRONMENT_BIT,
    Test,
    c_string,
    compile_test,
    fold,
)
from .environment import expand

# Binary 14.1 and older report a <Rule>'s own name over its filters' names.
_AGGREGATION_NAME_UNTIL = (14 << 16) | 1


@dataclass(frozen=True, slots=True)
class CFilter:
    """One filter ready to test: ``test`` is None when Sysmon would report Failed."""

    position: int  # index in RuleSet.filters
    field_id: int
    condition: int  # normalised FilterType (schema.CONDITIONS order), environment bit dropped
    data: str  # folded and, where Windows would, environment-expanded
    test: Test | None
    dead: bool  # environment expansion failed: never matches
    name: str | None  # the RuleName a match reports (None: leave it unchanged)
    source: RuleFilter


@dataclass(frozen=True, slots=True)
class CGroup:
    """A run of filters with the same aggregation id: one item of its set."""

    aggregation_id: int
    combine: int
    name: str
    filters: tuple[CFilter, ...]


Item = CFilter | CGroup


@dataclass(frozen=True, slots=True)
class CSet:
    """One rule set (RULE_EVENT) ready to evaluate."""

    rank: int  # position in the blob
    rule_set: RuleSet
    combine: int
    items: tuple[Item, ...]
    rescue: tuple[bool, ...]  # per item: a later top-level filter has the same field (AND rescue)
    on_match: OnMatch
    on_default: OnMatch


def _normalise_condition(raw: int, binary_version: int) -> int:
    """The FilterType in today's numbering; writers before 9.20 numbered conditions differently."""
    value = raw & CONDITION_MASK
    names = conditions_for(binary_version)
    if names == CONDITIONS[: len(names)]:  # today's numbering, or a prefix of it
        return value
    if value >= len(names):
        return CONDITION_MASK  # unknown in that era: Failed
    return CONDITIONS.index(names[value])


def compile_filter(flt: RuleFilter, position: int, name: str | None, *, binary_version: int,
                   platform: Platform, environment: Mapping[str, str]) -> CFilter:
    """Fold, expand and turn one RULE_FILTER into a predicate."""
    condition = _normalise_condition(flt.condition, binary_version)
    data = fold(c_string(flt.value))
    dead = False
    # Only Windows user mode expands; the load-time tag is "data holds '%'", or a blob that
    # already carries the in-memory bit.
    if platform == "windows" and ("%" in data or flt.condition & ENVIRONMENT_BIT):
        expanded = expand(data, environment)
        dead = expanded is None
        data = expanded if expanded is not None else data
    test = compile_test(condition, data, platform)
    return CFilter(position, flt.field_id, condition, data, test, dead, name, flt)


def compile_set(rule_set: RuleSet, rank: int, *, binary_version: int, platform: Platform,
                environment: Mapping[str, str]) -> CSet:
    """Cut a set into items and compile each filter."""
    aggregation_names = binary_version <= _AGGREGATION_NAME_UNTIL
    items: list[Item] = []
    run: list[CFilter] = []
    run_id = 0
    for position, flt in enumerate(rule_set.filters):
        agg_id = flt.aggregation_id
        if run and agg_id != run_id:
            items.append(_group(rule_set, run_id, run))
            run = []
        agg = rule_set.aggregation(agg_id) if agg_id else None
        name = flt.name or None
        if agg is not None and aggregation_names and agg.name:
            name = agg.name
        compiled = compile_filter(flt, position, name, binary_version=binary_version, platform=platform,
                                  environment=environment)
        if agg_id:
            run.append(compiled)
            run_id = agg_id
        else:
            items.append(compiled)
    if run:
        items.append(_group(rule_set, run_id, run))
    on_match = rule_set.onmatch
    return CSet(rank, rule_set, rule_set.combine, tuple(items), _rescue(items), on_match, opposite(on_match))


def _group(rule_set: RuleSet, aggregation_id: int, run: list[CFilter]) -> CGroup:
    agg = rule_set.aggregation(aggregation_id)
    # A hand-built table may lack the record; treat it as an unnamed OR <Rule>.
    combine = agg.combine if agg is not None else COMBINE_OR
    return CGroup(aggregation_id, combine, agg.name if agg is not None else "", tuple(run))


def _rescue(items: list[Item]) -> tuple[bool, ...]:
    """For top-level filters: does a later top-level filter test the same field id?"""
    later_fields: set[int] = set()
    flags: list[bool] = []
    for item in reversed(items):
        if isinstance(item, CFilter):
            flags.append(item.field_id in later_fields)
            later_fields.add(item.field_id)
        else:
            flags.append(False)
    return tuple(reversed(flags))


__all__ = ["COMBINE_AND", "COMBINE_OR", "CFilter", "CGroup", "CSet", "Item", "compile_set"]
