"""The one walk of a config in Sysmon's order (``xml.cpp``'s EventFiltering loop).

For each rule element name in the writer build's manifest order (a "series" such as
RegistryEvent = 12, 13, 14), every such element in document order; each element is tried against
the series' event ids in turn, and the first id whose field table has every field wins. The walk
yields one :class:`ElementStep` per element: which ids were tried, the filters each attempt
placed, and what Sysmon says about it. Validation reports the diagnostics; the compiler replays
the attempts into bytes. So a message or a drop rule exists once.

What Sysmon does with a problem:

- fatal (it refuses the file): an unknown condition, a rule name over 255 UTF-8 bytes;
- silent (it prints a line, drops rules and still says "Configuration file validated"): an
  element with neither ``onmatch`` nor ``default`` ("You need to specify the onmatch
  attribute"), with both ("Can't specify onmatch and default"), a field no id of the series has
  ("Incorrect field", which also drops every later element of the same name).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

from . import hints
from .errors import Diagnostic, Severity
from .model import Config, EventRules, Filter, Rule, RuleGroup
from .ruletable import MAX_NAME_BYTES
from .schema import CONDITIONS, EventType, SchemaVersion, condition_index


class Outcome(Enum):
    ADDED = "added"  # the element became a rule set of its last attempt's event id
    SKIPPED = "skipped"  # onmatch/default problem: nothing added, the series goes on
    INCORRECT = "incorrect"  # no id of the series has every field: this and later such elements drop
    DROPPED = "dropped"  # an earlier element of this name had an incorrect field
    FATAL = "fatal"  # Sysmon refuses the whole config (see ``fatal``)


class Placed(NamedTuple):  # NamedTuples: one per filter per attempt, so cheap to make
    """One filter as an attempt places it: field id in the attempt's event, FilterType, RuleName.

    ``condition`` is None only in a fatal step (an unknown condition).
    """

    filter: Filter
    field_id: int
    condition: int | None
    name: str | None


class PlacedItem(NamedTuple):
    """A direct filter (``rule`` None, one filter) or a ``<Rule>`` and the filters placed from it."""

    rule: Rule | None
    filters: tuple[Placed, ...]


class Attempt(NamedTuple):
    """The element tried as one event id; ``fits`` False: ``items`` stop before the breaking field."""

    event: EventType
    items: tuple[PlacedItem, ...]
    fits: bool


@dataclass(frozen=True)
class ElementStep:
    group: RuleGroup | None
    element: EventRules
    outcome: Outcome
    attempts: tuple[Attempt, ...] = ()
    fatal: tuple[Diagnostic, ...] = ()  # errors whatever the mode
    silent: tuple[Diagnostic, ...] = ()  # what Sysmon only prints (severity as asked for)

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return self.fatal + self.silent


def effective_name(group: RuleGroup | None, rule: Rule | None, flt: Filter) -> str | None:
    """The RuleName a filter carries: its own, else its Rule's, else its RuleGroup's."""
    for name in (flt.name, rule.name if rule else None, group.name if group else None):
        if name:
            return name
    return None


def filters_of(ev: EventRules) -> Iterator[tuple[Rule | None, Filter]]:
    for item in ev.items:
        if isinstance(item, Rule):
            yield from ((item, f) for f in item.filters)
        else:
            yield None, item


def walk(config: Config, writer: SchemaVersion, *, conditions: tuple[str, ...] = CONDITIONS,
         silent: Severity = "error") -> Iterator[ElementStep]:
    """Every event element in Sysmon's order.

    Sysmon stops at the first fatal step; the walk goes on so validation can report every one
    (the compiler stops).

    ``writer`` gives the manifest order and field tables, ``conditions`` the condition names the
    writer knows (older blob formats know fewer); ``silent`` is the severity of what Sysmon only
    prints.
    """
    by_element: dict[str, list[tuple[RuleGroup | None, EventRules]]] = {}
    for group, ev in config.event_rules():
        by_element.setdefault(ev.element, []).append((group, ev))
    for rulename, series in writer.rule_elements.items():
        broken: EventRules | None = None
        for group, ev in by_element.get(rulename, []):
            if broken is not None:
                yield ElementStep(group, ev, Outcome.DROPPED, silent=(_dropped(ev, broken, silent),))
                continue
            step = _element(group, ev, series, conditions, silent)
            yield step
            if step.outcome is Outcome.INCORRECT:
                broken = ev


def _element(group: RuleGroup | None, ev: EventRules, series: tuple[EventType, ...],
             conditions: tuple[str, ...], silent: Severity) -> ElementStep:
    onmatch = _onmatch_problem(ev, silent)
    if onmatch is not None:
        return ElementStep(group, ev, Outcome.SKIPPED, silent=(onmatch,))
    attempts: list[Attempt] = []
    breaking: Filter | None = None
    for event_type in series:
        attempt, fatal, breaking = _attempt(group, ev, event_type, conditions)
        attempts.append(attempt)
        if fatal:
            return ElementStep(group, ev, Outcome.FATAL, tuple(attempts), fatal=tuple(fatal))
        if attempt.fits:
            return ElementStep(group, ev, Outcome.ADDED, tuple(attempts))
    assert breaking is not None
    return ElementStep(group, ev, Outcome.INCORRECT, tuple(attempts),
                       silent=(_incorrect_field(ev, series, breaking, silent),))


def _attempt(group: RuleGroup | None, ev: EventRules, event_type: EventType, conditions: tuple[str, ...]
             ) -> tuple[Attempt, list[Diagnostic], Filter | None]:
    """One id of the series: the filters placed, the fatal findings, the breaking filter if any.

    Sysmon stops at its first fatal finding; every fatal finding of the attempt is reported so a
    user fixes them in one go.
    """
    items: list[PlacedItem] = []
    fatal: list[Diagnostic] = []
    for item in ev.items:
        rule, filters = (item, item.filters) if isinstance(item, Rule) else (None, (item,))
        placed: list[Placed] = []
        for flt in filters:
            field_id = event_type.field_index.get(flt.field)
            if field_id is None:
                items.append(PlacedItem(rule, tuple(placed)))
                return Attempt(event_type, tuple(items), fits=False), fatal, flt
            name, condition = effective_name(group, rule, flt), condition_index(flt.condition, conditions)
            if condition is None or (name is not None and _too_long(name)):
                fatal.extend(_fatal(group, rule, flt, name, conditions))
            placed.append(Placed(flt, field_id, condition, name))
        items.append(PlacedItem(rule, tuple(placed)))
    return Attempt(event_type, tuple(items), fits=True), fatal, None


def _onmatch_problem(ev: EventRules, silent: Severity) -> Diagnostic | None:
    if ev.onmatch is None and ev.default is None:
        return Diagnostic("missing-onmatch", silent,
                          f"<{ev.element}> has no onmatch attribute; Sysmon ignores this element",
                          ev.location, 'add onmatch="include" or onmatch="exclude"')
    if ev.onmatch is not None and ev.default is not None:
        return Diagnostic("onmatch-and-default", silent,
                          f"<{ev.element}> has both onmatch and default; Sysmon ignores this element",
                          ev.location, "keep only onmatch")
    return None


def _too_long(name: str) -> bool:
    return len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES


def _fatal(group: RuleGroup | None, rule: Rule | None, flt: Filter, name: str | None, conditions: tuple[str, ...]
           ) -> Iterator[Diagnostic]:
    if name is not None and _too_long(name):
        owner = flt if flt.name else (rule if rule and rule.name else group)
        yield Diagnostic(
            "name-too-long", "error",
            f"Rule name is larger than 255 characters: {name[:40]}... "
            f"({len(name.encode('utf-8', 'surrogatepass'))} bytes)",
            owner.location if owner else flt.location, "shorten the name to 255 bytes",
        )
    if condition_index(flt.condition, conditions) is None:
        close = difflib.get_close_matches((flt.condition or "").lower(), conditions, n=1)
        yield Diagnostic(
            "unknown-condition", "error",
            f"Unknown condition: {hints.shown(flt.condition or '')}. Expected values are {', '.join(conditions)}",
            flt.location, f"did you mean '{close[0]}'?" if close else None,
        )


def _incorrect_field(ev: EventRules, series: tuple[EventType, ...], breaking: Filter, silent: Severity
                     ) -> Diagnostic:
    ids = "/".join(str(e.id) for e in series)
    return Diagnostic(
        "incorrect-field", silent,
        f"Incorrect field {breaking.field}: no {ev.element} event (id {ids}) has all the fields this "
        f"element uses; Sysmon drops this element and every later <{ev.element}>",
        breaking.location, hints.incorrect_field(breaking.field, [f.field for _, f in filters_of(ev)], series),
    )


def _dropped(ev: EventRules, broken: EventRules, silent: Severity) -> Diagnostic:
    return Diagnostic(
        "dropped-element", silent,
        f"Sysmon ignores this <{ev.element}>: an earlier <{ev.element}> (line "
        f"{broken.location.line}) had an incorrect field", ev.location)
