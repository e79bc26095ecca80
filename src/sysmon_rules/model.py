"""The config model: what a Sysmon XML config says, node for node, with where each node was.

Attribute values are kept as written (``None`` when the attribute is absent) so that the
compiler, validator and linter can each apply Sysmon's own interpretation in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as _field

from .errors import Location

_NOWHERE = Location()


@dataclass(frozen=True, slots=True)
class Option:
    """A child of ``<Sysmon>`` other than ``<EventFiltering>``, e.g. ``<HashAlgorithms>``."""

    name: str
    value: str
    location: Location = _field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class Filter:
    """A field element such as ``<Image condition="end with">\\cmd.exe</Image>``."""

    field: str
    value: str
    condition: str | None = None
    name: str | None = None
    location: Location = _field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class Rule:
    """A ``<Rule>`` element: filters combined by its own ``groupRelation`` (OR when absent)."""

    filters: tuple[Filter, ...]
    group_relation: str | None = None
    name: str | None = None
    location: Location = _field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class EventRules:
    """An event element such as ``<ProcessCreate onmatch="include">`` and its children."""

    element: str
    items: tuple[Filter | Rule, ...] = ()
    onmatch: str | None = None
    default: str | None = None  # the legacy attribute, schema 2.0/3.x
    location: Location = _field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class RuleGroup:
    """A ``<RuleGroup>``: supplies the combine type and a default RuleName to its event elements."""

    events: tuple[EventRules, ...]
    group_relation: str | None = None
    name: str | None = None
    location: Location = _field(default=_NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class Config:
    """A whole config: schema version as written, options and the EventFiltering children in order."""

    schema_version: str
    options: tuple[Option, ...] = ()
    filtering: tuple[RuleGroup | EventRules, ...] = ()
    location: Location = _field(default=_NOWHERE, compare=False)
    source: str | None = _field(default=None, compare=False)

    def event_rules(self) -> list[tuple[RuleGroup | None, EventRules]]:
        """Every event element in document order, with the RuleGroup that holds it (if any)."""
        found: list[tuple[RuleGroup | None, EventRules]] = []
        for node in self.filtering:
            if isinstance(node, RuleGroup):
                found.extend((node, ev) for ev in node.events)
            else:
                found.append((None, node))
        return found

    def option(self, name: str) -> Option | None:
        """The first option element with this name, if present."""
        return next((o for o in self.options if o.name == name), None)
