"""The checks Sysmon's own code makes while it turns event elements into rules (``xml.cpp``).

They follow Sysmon's walk: rule elements in the writer build's manifest order, each element in
document order, for a shared element (RegistryEvent, PipeEvent, WmiEvent) each event id of the
series in turn. Fatal in Sysmon: an unknown condition, a rule name over 255 UTF-8 bytes. Silent in
Sysmon (it prints a line, drops rules and still says "Configuration file validated"): a field no
event of the series has ("Incorrect field", which drops that element and every later element of
the same name), and an event element with neither or both of ``onmatch``/``default``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from ..errors import Diagnostic, Location, Severity
from ..model import Config, EventRules, Filter, Rule, RuleGroup
from ..ruletable import MAX_NAME_BYTES
from ..schema import CONDITIONS, EventType, SchemaVersion, condition_index
from . import hints


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


def _fatal(group: RuleGroup | None, rule: Rule | None, flt: Filter) -> Iterator[Diagnostic]:
    name = effective_name(group, rule, flt)
    if name is not None and len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        owner = flt if flt.name else (rule if rule and rule.name else group)
        yield Diagnostic(
            "name-too-long", "error",
            f"Rule name is larger than 255 characters: {name[:40]}... ({len(name.encode('utf-8'))} bytes)",
            owner.location if owner else flt.location, "shorten the name to 255 bytes",
        )
    if condition_index(flt.condition) is None:
        close = difflib.get_close_matches((flt.condition or "").lower(), CONDITIONS, n=1)
        yield Diagnostic(
            "unknown-condition", "error",
            f"Unknown condition: {hints.shown(flt.condition or '')}. Expected values are {', '.join(CONDITIONS)}",
            flt.location, f"did you mean '{close[0]}'?" if close else None,
        )


def _check_element(
    group: RuleGroup | None, ev: EventRules, series: tuple[EventType, ...], silent: Severity
) -> tuple[list[Diagnostic], bool]:
    """Diagnostics for one event element, and whether it breaks the rest of its series."""
    if ev.onmatch is None and ev.default is None:
        return [Diagnostic("missing-onmatch", silent,
                           f"<{ev.element}> has no onmatch attribute; Sysmon ignores this element",
                           ev.location, 'add onmatch="include" or onmatch="exclude"')], False
    if ev.onmatch is not None and ev.default is not None:
        return [Diagnostic("onmatch-and-default", silent,
                           f"<{ev.element}> has both onmatch and default; Sysmon ignores this element",
                           ev.location, "keep only onmatch")], False
    breaking: Filter | None = None
    for event_type in series:
        fatal: list[Diagnostic] = []
        fits = True
        for rule, flt in filters_of(ev):
            if flt.field not in event_type.field_index:
                fits, breaking = False, flt
                break
            fatal.extend(_fatal(group, rule, flt))
        if fatal or fits:
            return fatal, False
    assert breaking is not None
    ids = "/".join(str(e.id) for e in series)
    return [Diagnostic(
        "incorrect-field", silent,
        f"Incorrect field {breaking.field}: no {ev.element} event (id {ids}) has all the fields this "
        f"element uses; Sysmon drops this element and every later <{ev.element}>",
        breaking.location, hints.incorrect_field(breaking.field, [f.field for _, f in filters_of(ev)], series),
    )], True


def check_semantics(config: Config, writer: SchemaVersion, *, sysmon_compatible: bool) -> Iterator[Diagnostic]:
    """Yield what Sysmon's rule builder reports, in the order it would report it."""
    seen: set[tuple[str, Location]] = set()
    for diagnostic in _walk(config, writer, "warning" if sysmon_compatible else "error"):
        key = (diagnostic.code, diagnostic.location)
        if key not in seen:  # a long RuleGroup name is one finding, not one per filter
            seen.add(key)
            yield diagnostic


def _walk(config: Config, writer: SchemaVersion, silent: Severity) -> Iterator[Diagnostic]:
    by_element: dict[str, list[tuple[RuleGroup | None, EventRules]]] = {}
    for group, ev in config.event_rules():
        by_element.setdefault(ev.element, []).append((group, ev))
    for rulename, series in writer.rule_elements.items():
        broken: EventRules | None = None
        for group, ev in by_element.get(rulename, []):
            if broken is not None:
                yield Diagnostic(
                    "dropped-element", silent,
                    f"Sysmon ignores this <{rulename}>: an earlier <{rulename}> (line "
                    f"{broken.location.line}) had an incorrect field", ev.location)
                continue
            diagnostics, breaks = _check_element(group, ev, series, silent)
            yield from diagnostics
            if breaks:
                broken = ev
