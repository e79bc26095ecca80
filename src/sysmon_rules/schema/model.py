"""Schema objects (one SchemaVersion per Sysmon schema version) and Sysmon's version numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from ..errors import PlatformError

Platform = Literal["windows", "linux"]
PLATFORMS: tuple[Platform, ...] = ("windows", "linux")


def as_platform(value: str) -> Platform:
    """``value`` as a Platform; PlatformError (a SysmonRulesError) for anything else."""
    for platform in PLATFORMS:
        if value == platform:
            return platform
    raise PlatformError(f"unknown platform {value!r} (windows or linux)")


# Which manifest `target` values each build keeps: Windows Sysmon is the public build, Sysmon for
# Linux an internal one (so it keeps options tagged "internal").
_PLATFORM_TARGETS: dict[str, frozenset[str]] = {
    "windows": frozenset({"all", "windows", "public"}),
    "linux": frozenset({"all", "linux", "internal", "shared"}),
}

# The prefix of a string that C's strtod (std::stod) reads as a decimal number.
_STOD_PREFIX = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")


def parse_version(text: str | None) -> int | None:
    """Pack a schema version string as Sysmon does (major << 16 | minor), or None if it rejects it.

    Sysmon reads the leading number (``stod``), prints it with two decimals and packs the two
    parts, so ``"4.1"`` is 4.10 and ``"4.5"`` is 4.50; versions below 1.0 are rejected.
    """
    if not text:
        return None
    match = _STOD_PREFIX.match(text)
    if not match:
        return None
    try:
        number = float(match.group(1))
    except ValueError:
        return None
    printed = f"{number:.2f}"
    if not re.fullmatch(r"[1-9]\d*\.\d\d", printed):
        return None
    major_text, minor_text = printed.split(".")
    major, minor = int(major_text), int(minor_text)
    if major > 0xFFFF:
        return None
    return (major << 16) | minor


def format_version(packed: int) -> str:
    """The ``%.2f`` rendering Sysmon prints for a packed version (0x0004005A -> ``"4.90"``)."""
    return f"{packed >> 16}.{packed & 0xFFFF:02d}"


def pack_version(text: str) -> int:
    """Pack a version string that is known to be valid (e.g. from the embedded schema)."""
    packed = parse_version(text)
    if packed is None:
        raise ValueError(f"not a Sysmon version: {text!r}")
    return packed


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One ``<data>`` element of an event: a field name and its types."""

    name: str
    in_type: str
    out_type: str | None = None
    attributes: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class OptionDef:
    """One ``<option>``: a command-line switch and, unless ``noconfig``, a config element."""

    name: str
    argument: str = "none"  # none | optional | required
    switch: str | None = None
    target: str = "all"
    noconfig: bool = False
    rule: bool = False
    forceconfig: bool = False
    attributes: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)

    @property
    def config_element(self) -> str | None:
        """The element name a config file uses for this option, or None if it is switch-only."""
        if self.noconfig:
            return None
        if self.rule:
            return self.name + "Config" if self.forceconfig else None
        return self.name


@dataclass(frozen=True)
class EventType:
    """One ``<event>``: id, names, default and its fields in order."""

    id: int
    name: str
    template: str
    level: str
    rulename: str | None
    ruledefault: str | None  # "include" | "exclude" | None (Sysmon then uses exclude)
    version: str
    target: str
    fields: tuple[FieldDef, ...]
    attributes: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)

    @property
    def default_decision(self) -> str:
        """What Sysmon does with this event when no rule set exists for it."""
        return self.ruledefault or "exclude"

    @cached_property
    def field_index(self) -> dict[str, int]:
        return {f.name: i for i, f in enumerate(self.fields)}

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


@dataclass(frozen=True)
class SchemaVersion:
    """The schema of one Sysmon schema version, possibly narrowed to one platform."""

    version: str  # as Sysmon names it: "4.90", "4.1", "3.10"
    binary_version: str  # as the manifest writes it: "18", "15.0", "9.20"
    default_condition: str
    conditions: tuple[str, ...]
    options: tuple[OptionDef, ...]
    events: tuple[EventType, ...]
    platforms: frozenset[str] = frozenset({"windows", "linux"})

    @property
    def packed(self) -> int:
        return pack_version(self.version)

    @property
    def binary_packed(self) -> int:
        return pack_version(self.binary_version)

    @property
    def label(self) -> str:
        """The two-decimal version Sysmon prints ("4.1" -> "4.10")."""
        return format_version(self.packed)

    def for_platform(self, platform: Platform) -> SchemaVersion:
        """Only what the given platform's Sysmon build has (by the manifest's ``target``)."""
        keep = _PLATFORM_TARGETS[platform]
        return SchemaVersion(
            version=self.version,
            binary_version=self.binary_version,
            default_condition=self.default_condition,
            conditions=self.conditions,
            options=tuple(o for o in self.options if o.target in keep),
            events=tuple(e for e in self.events if e.target in keep),
            platforms=frozenset({platform}) & self.platforms,
        )

    @cached_property
    def events_by_id(self) -> dict[int, EventType]:
        return {e.id: e for e in self.events}

    @cached_property
    def rule_elements(self) -> dict[str, tuple[EventType, ...]]:
        """Rule element name -> the event types it filters, in manifest order (a "series")."""
        series: dict[str, list[EventType]] = {}
        for event in self.events:
            if event.rulename:
                series.setdefault(event.rulename, []).append(event)
        return {name: tuple(events) for name, events in series.items()}

    @cached_property
    def all_field_names(self) -> tuple[str, ...]:
        """Every field name of every rule element, first appearance first (the DTD's Rule content)."""
        seen: dict[str, None] = {}
        for events in self.rule_elements.values():
            for event in events:
                for f in event.fields:
                    seen.setdefault(f.name, None)
        return tuple(seen)

    @cached_property
    def config_options(self) -> dict[str, OptionDef]:
        """Config element name -> option, for options a config file may set."""
        found: dict[str, OptionDef] = {}
        for option in self.options:
            element = option.config_element
            if element:
                found[element] = option
        return found
