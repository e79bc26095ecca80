"""What the report says about a config before any event: schema, options, rule sets, lint.

Everything here is plain JSON-able data (dicts, lists, str, int), so the page, the tests and a
user's own tooling read the same facts.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from ..engine import Evaluator
from ..errors import Diagnostic
from ..lint import lint_file
from ..model import Config
from ..rulesource import load_rules
from ..schema import format_version, newest
from ..schema.model import Platform

Facts = dict[str, object]


def event_label(event_id: int, platform: Platform = "windows") -> str:
    """``"1 Process Create"``: the id and the title Sysmon logs it under (the id alone if unknown)."""
    event_type = newest(platform).events_by_id.get(event_id)
    return f"{event_id} {event_type.template}" if event_type is not None else str(event_id)


def element_label(event_id: int, platform: Platform = "windows") -> str:
    """``"RegistryEvent (12, 13, 14)"``: the config element that filters this id, and all it filters."""
    schema = newest(platform)
    event_type = schema.events_by_id.get(event_id)
    if event_type is None or event_type.rulename is None:
        return event_label(event_id, platform)
    ids = ", ".join(str(e.id) for e in schema.rule_elements[event_type.rulename])
    return f"{event_type.rulename} ({ids})"


def rule_sets_per_event(evaluator: Evaluator) -> list[dict[str, object]]:
    """Per config element (by first event id): include and exclude rule sets, and their filters."""
    rows: dict[str, dict[str, int]] = defaultdict(lambda: {"include_sets": 0, "exclude_sets": 0,
                                                           "include_filters": 0, "exclude_filters": 0})
    first: dict[str, int] = {}
    for rule_set in evaluator.table.rule_sets:
        label = element_label(rule_set.event_id, evaluator.platform)
        first[label] = min(first.get(label, rule_set.event_id), rule_set.event_id)
        row = rows[label]
        row[f"{rule_set.onmatch}_sets"] += 1
        row[f"{rule_set.onmatch}_filters"] += len(rule_set.filters)
    return [{"event_id": first[k], "event": k, **rows[k]} for k in sorted(rows, key=first.__getitem__)]


def diagnostic_row(d: Diagnostic) -> dict[str, object]:
    return {"location": str(d.location), "line": d.location.line, "severity": d.severity, "code": d.code,
            "message": d.message + (f" ({d.hint})" if d.hint else "")}


def config_facts(path: str | Path, config: Config, evaluator: Evaluator, *, is_blob: bool = False) -> Facts:
    """The config at a glance: versions, options, rule sets per event type and lint findings.

    A rule blob has no options and no XML to lint: ``kind`` says which it was.
    """
    table = evaluator.table
    return {
        "path": str(path),
        "kind": "rule blob" if is_blob else "XML config",
        "schema_version": config.schema_version,
        "binary_version": format_version(table.binary_version),
        "rule_sets": len(table.rule_sets),
        "filters": sum(len(s.filters) for s in table.rule_sets),
        "options": [{"name": o.name, "value": o.value, "location": str(o.location)} for o in config.options],
        "event_types": rule_sets_per_event(evaluator),
        "logged_by_default": [event_label(e.id, evaluator.platform) for e in newest(evaluator.platform).events
                              if e.rulename and e.default_decision == "include"],
        "lint": [] if is_blob else [diagnostic_row(d) for d in lint_file(path)],
    }


def load_config(path: str | Path, platform: Platform = "windows") -> tuple[Config, Evaluator, bool]:
    """The rules at ``path`` in any form ``rulesource.load_rules`` reads (an XML config read by
    path, so every location names the file, or what a host runs: a rule blob, .reg, `sysmon -c`
    text, decompiled); its evaluator; and whether it was not XML."""
    rules = load_rules(path, platform=platform)
    config, _ = rules.as_config()  # the notes say what XML cannot express
    return config, Evaluator(rules.table, platform=platform), rules.config is None
