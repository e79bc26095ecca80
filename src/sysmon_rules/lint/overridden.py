"""``empty-exclude-beside-include``: an empty exclude set ("log everything") an include set overrides.

An event type whose only exclude set is empty logs every event of that type. Add an include set of
the type anywhere, and Sysmon (two or more sets, no match: drop) logs only what the include set
matches. An empty exclude set right beside an include set of the same type is a template's
placeholder (SwiftOnSecurity's "include, then an empty exclude" sections) and is left alone; one
that stands on its own before the include set states "log everything" and is reported, at both
sets, with an event the config logs without the include set and drops with it.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..engine import Evaluator
from ..errors import Diagnostic, Location
from ..events import Event
from ..model import EventRules
from ..ruletable import RuleTable
from ..schema import ascii_lower
from .context import LintContext
from .finding import finding
from .logic import SAMPLES

_CODE = "empty-exclude-beside-include"


def _onmatch(ev: EventRules) -> str:
    return ascii_lower(ev.onmatch or "")


def check_overridden(ctx: LintContext) -> Iterator[Diagnostic]:
    order = [ev for _group, ev in ctx.config.event_rules()]
    by_element: dict[str, list[int]] = {}
    for position, ev in enumerate(order):
        by_element.setdefault(ev.element, []).append(position)
    for element, positions in by_element.items():
        excludes = [p for p in positions if _onmatch(order[p]) == "exclude"]
        includes = [p for p in positions if _onmatch(order[p]) == "include" and order[p].items]
        if not excludes or not includes or any(order[p].items for p in excludes):
            continue
        empty = excludes[0]
        beside = {empty - 1, empty + 1} & set(positions)
        if empty > includes[0] or any(_onmatch(order[p]) == "include" for p in beside):
            continue  # after the include set, or right beside one: a template's placeholder
        witness = _witness(ctx, order[empty], [order[p] for p in includes])
        if witness is None:
            continue
        shown = f"event {witness.event_id} with " + (", ".join(f"{k}='{v}'" for k, v in witness.fields.items())
                                                     or "no field set")
        empty_ev = order[empty]
        lines = ("lines " if len(includes) > 1 else "line ") + ", ".join(str(order[p].location.line) for p in includes)
        yield finding(_CODE, f"<{element} onmatch=\"exclude\"> is empty, which logs every {element} event, but "
                      f"the <{element} onmatch=\"include\"> at {lines} makes Sysmon log only what it matches "
                      f"(witness: {shown} is logged without the include set and dropped with it)",
                      empty_ev.location, f"remove the empty set, or remove the include set to log every {element}",
                      related=tuple(order[p].location for p in includes), witness=witness, claim=("exclude", None))
        for p in includes:
            yield finding(_CODE, f"this <{element} onmatch=\"include\"> turns the empty <{element} "
                          f"onmatch=\"exclude\"> at line {empty_ev.location.line} (log every {element} event) into "
                          f"'log only what this matches' (witness: {shown} is dropped now, logged without it)",
                          order[p].location, "if every event should be logged, drop this set or add its filters "
                          "as RuleNames elsewhere", related=(empty_ev.location,), witness=witness,
                          claim=("exclude", None))


def _witness(ctx: LintContext, empty: EventRules, includes: list[EventRules]) -> Event | None:
    """An event the config drops and the config without these include sets logs (the evaluator's word)."""
    include_at = {_key(ev.location) for ev in includes}
    ids = sorted({s.event_id for s in ctx.table.rule_sets if _key(s.location) == _key(empty.location)})
    kept = tuple(s for s in ctx.table.rule_sets if _key(s.location) not in include_at)
    before = Evaluator(RuleTable(ctx.table.binary_version, ctx.table.schema_version, kept), index=False)
    for event_id in ids:
        for fields in ({}, *({"Image": s} for s in SAMPLES)):
            event = Event(event_id, fields)
            if ctx.evaluator.decide(event).decision == "exclude" and before.decide(event).decision == "include":
                return event
    return None


def _key(location: Location | None) -> tuple[int, int]:
    return (location.line, location.column) if location is not None else (0, 0)
