"""The rules part of ``sysmon -c`` for a blob, and the same facts as JSON.

The text follows ``dumpConfiguration.c``: a set is printed only when its rule name or onmatch
differs from the previously printed set (so a second ``<ProcessCreate onmatch="include">`` set
is hidden, filters and all); filters of unknown fields and sets of unknown events are skipped;
an unknown filter type prints as ``is``; a named compound rule shows its first 32 characters.
"""

from __future__ import annotations

from typing import Any

from ..ruletable import COMBINE_NAMES, COMBINE_OR, RuleSet, RuleTable, onmatch_of
from ..schema import SchemaVersion, format_version
from ..schema.model import Platform
from .decode import decode_blob
from .layout import V1_01_WORD, conditions_for, format_name, writer_schema

_FIELD_WIDTH = 30


def _combine(value: int) -> str:
    return COMBINE_NAMES.get(value, "unknown").title()  # dumpConfiguration.c capitalises them


def _match_name(rule_default: int) -> str:
    return onmatch_of(rule_default) or "?"


def _condition(conditions: tuple[str, ...], value: int) -> str:
    return conditions[value] if 0 <= value < len(conditions) else "is"


def _set_lines(rule_set: RuleSet, schema: SchemaVersion, conditions: tuple[str, ...], state: dict[str, int]
               ) -> list[str]:
    event = schema.events_by_id[rule_set.event_id]
    lines = [" - " + f"{event.rulename or '':<34}" + f" onmatch: {_match_name(rule_set.rule_default)}"
             f"   combine rules using '{_combine(rule_set.combine)}'"]
    for flt in rule_set.filters:
        if flt.field_id >= len(event.fields):
            continue
        field = f"{event.fields[flt.field_id].name:<{_FIELD_WIDTH}}"
        tail = f" filter: {_condition(conditions, flt.condition):<12} value: '{flt.value}'"
        if not flt.aggregation_id:
            lines.append(f"\t{field}{tail}")
            continue
        if flt.aggregation_id != state["aggregation"]:
            aggregation = rule_set.aggregation(flt.aggregation_id)
            combine = _combine(aggregation.combine if aggregation else COMBINE_OR)
            label = aggregation.name[:32] if aggregation and aggregation.name else f"{flt.aggregation_id:04d}"
            lines.append(f"\tCompound Rule {label}   combine using {combine}")
            state["aggregation"] = flt.aggregation_id
        lines.append(f"\t    {field}{tail}")
    return lines


def dump_text(data: bytes, platform: Platform = "windows", *, every_set: bool = False) -> str:
    """What ``sysmon -c`` prints under "Rule configuration" for this blob; ``every_set`` also
    prints the sets it leaves out (:func:`printed_sets`), in the same format."""
    decoded = decode_blob(data)
    table = decoded.table
    schema = writer_schema(table.binary_version, platform, table.schema_version)
    conditions = conditions_for(table.binary_version)
    if table.binary_version >= V1_01_WORD:
        lines = [f"Rule configuration (version {format_version(table.schema_version)}):"]
    else:
        lines = [f"Rule configuration (binary version {format_version(table.binary_version)}):"]
    if not table.rule_sets:
        return "No rules installed\n"
    state = {"aggregation": 0}
    for index in printed_sets(table, schema, every_set=every_set):
        lines += _set_lines(table.rule_sets[index], schema, conditions, state)
    return "\n".join(lines) + "\n"


def printed_sets(table: RuleTable, schema: SchemaVersion, *, every_set: bool = False) -> list[int]:
    """Indexes of the rule sets ``sysmon -c`` prints: known events, no repeat of the set before.

    Sysmon's "don't repeat overloaded event type names": a set whose event's rule name and
    default equal the previously printed set's is not printed at all, filters and all
    (``every_set`` keeps those).
    """
    shown: list[int] = []
    previous: tuple[str, int] | None = None
    for index, rule_set in enumerate(table.rule_sets):
        event = schema.events_by_id.get(rule_set.event_id)
        if event is None:
            continue
        key = (event.rulename or "", rule_set.rule_default)
        if key != previous or every_set:
            shown.append(index)
        previous = key
    return shown


def dump_json(data: bytes, platform: Platform = "windows") -> dict[str, Any]:
    """Every rule set (none hidden), with names resolved through the writer's tables."""
    decoded = decode_blob(data)
    table = decoded.table
    schema = writer_schema(table.binary_version, platform, table.schema_version)
    conditions = conditions_for(table.binary_version)
    return {
        "binary_version": format_name(table.binary_version),
        "schema_version": format_version(table.schema_version),
        "format": decoded.fmt.name,
        "rule_sets": [_set_json(rule_set, schema, conditions) for rule_set in table.rule_sets],
    }


def _set_json(rule_set: RuleSet, schema: SchemaVersion, conditions: tuple[str, ...]) -> dict[str, Any]:
    event = schema.events_by_id.get(rule_set.event_id)
    fields = event.fields if event else ()
    return {
        "event_id": rule_set.event_id,
        "event": event.name if event else None,
        "rulename": event.rulename if event else None,
        "onmatch": _match_name(rule_set.rule_default),
        "combine": _combine(rule_set.combine).lower(),
        "aggregations": [{"id": a.id, "name": a.name, "combine": _combine(a.combine).lower()}
                         for a in rule_set.aggregations],
        "filters": [{
            "field": fields[f.field_id].name if f.field_id < len(fields) else None,
            "field_id": f.field_id,
            "condition": conditions[f.condition] if f.condition < len(conditions) else None,
            "condition_id": f.condition,
            "value": f.value,
            "name": f.name,
            "aggregation_id": f.aggregation_id,
        } for f in rule_set.filters],
    }


def hidden_sets(table: RuleTable, platform: Platform = "windows") -> list[int]:
    """Indexes of the sets of known events ``sysmon -c`` does not print (see :func:`printed_sets`)."""
    schema = writer_schema(table.binary_version, platform, table.schema_version)
    shown = set(printed_sets(table, schema))
    return [i for i, s in enumerate(table.rule_sets) if s.event_id in schema.events_by_id and i not in shown]


def left_out(table: RuleTable, platform: Platform = "windows") -> list[str]:
    """The sets ``sysmon -c`` does not print, each as "set N (EventName onmatch=..., K filters)"."""
    schema = writer_schema(table.binary_version, platform, table.schema_version)
    return [f"set {i + 1} ({schema.events_by_id[s.event_id].rulename} onmatch={_match_name(s.rule_default)}, "
            f"{len(s.filters)} filters)" for i in hidden_sets(table, platform) for s in (table.rule_sets[i],)]
