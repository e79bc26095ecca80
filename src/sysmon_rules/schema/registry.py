"""Reads the embedded schema files and answers "which schema applies to this config"."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from importlib import resources

from ..errors import SchemaVersionError
from .model import EventType, FieldDef, OptionDef, Platform, SchemaVersion, format_version, parse_version
from .statements import Statement, parse_all

# Filter condition names in FilterType order: the order Sysmon's blob numbers them in from binary
# version 14.0 on (the 4.60 list, then what 4.70 added at the end). One fact, used by every module.
CONDITIONS: tuple[str, ...] = (
    "is", "is not", "contains", "contains any", "is any", "contains all", "excludes",
    "excludes any", "excludes all", "begin with", "end with", "less than", "more than",
    "image", "not begin with", "not end with",
)  # fmt: skip
# The conditions whose data is a ';'-separated list.
LIST_CONDITIONS = frozenset({"contains any", "is any", "contains all", "excludes any", "excludes all"})
DEFAULT_CONDITION = "is"

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only, as Sysmon folds names (``strcasecmp``) and rule data
    (``towlower`` in the C locale); ``str.lower`` alone would also fold e.g. 'İ'."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def condition_index(condition: str | None, table: tuple[str, ...] = CONDITIONS) -> int | None:
    """FilterType of a ``condition`` attribute as ``GetFilterOption`` parses it, None if unknown.

    Missing or empty means ``is``; names compare ASCII-case-insensitively but need exact spelling.
    """
    if not condition:
        return 0
    folded = ascii_lower(condition)
    return table.index(folded) if folded in table else None

# The newest schema of each platform's writer build: its field tables number the blob's FieldIds.
_NEWEST = {"windows": "4.91", "linux": "4.90"}
# Schema versions only Windows Sysmon knows (4.82/4.83: Sysmon 14; 4.91: late Sysmon 15).
_WINDOWS_ONLY_VERSIONS = frozenset({"4.82", "4.83", "4.91"})


def _option(attrs: tuple[tuple[str, str], ...]) -> OptionDef:
    a = dict(attrs)
    return OptionDef(
        name=a["name"],
        argument=a.get("argument", "none"),
        switch=a.get("switch"),
        target=a.get("target", "all"),
        noconfig=a.get("noconfig") == "true",
        rule=a.get("rule", "").lower() == "true",
        forceconfig=a.get("forceconfig") == "true",
        attributes=attrs,
    )


def _event(attrs: tuple[tuple[str, str], ...], data: list[tuple[tuple[str, str], ...]]) -> EventType:
    a = dict(attrs)
    fields = tuple(
        FieldDef(name=dict(d)["name"], in_type=dict(d)["inType"], out_type=dict(d).get("outType"), attributes=d)
        for d in data
    )
    return EventType(
        id=int(a["value"], 0),
        name=a["name"],
        template=a.get("template", ""),
        level=a.get("level", ""),
        rulename=a.get("rulename"),
        ruledefault=a.get("ruledefault"),
        version=a.get("version", ""),
        target=a.get("target", "all"),
        fields=fields,
        attributes=attrs,
    )


class SchemaRegistry:
    """Every embedded schema version, oldest first, each parsed on first use.

    A version is stored as the changes from its ``base``, so using one builds its chain of
    bases (the newest schema needs them all); nothing is read until a version is asked for, and
    then the files' statements come from ``statements.parse_all`` (cached).
    """

    def __init__(self) -> None:
        files = resources.files("sysmon_rules.schema_data")
        found = [p for p in files.iterdir() if p.name.endswith(".txt")]
        self._files = {p.name[: -len(".txt")]: p for p in sorted(found, key=lambda p: parse_version(p.name[:-4]) or 0)}
        self._versions: dict[str, SchemaVersion] = {}
        self._statements: dict[str, list[Statement]] | None = None

    def _load(self, name: str) -> SchemaVersion:
        schema = self._versions.get(name)
        if schema is None:
            if self._statements is None:
                self._statements = parse_all({n: p.read_text("utf-8") for n, p in self._files.items()})
            schema = self._versions[name] = self._apply(name, self._statements[name])
        return schema

    def _apply(self, name: str, statements: list[Statement]) -> SchemaVersion:
        kind, (version, header) = statements[0]
        if version != name:
            raise SchemaVersionError(f"schema file {name}.txt declares version {version}")
        base = self._load(header["base"]) if header.get("base") in self._files else None
        default = base.default_condition if base else DEFAULT_CONDITION
        conditions = base.conditions if base else ()
        options = {o.name: o for o in base.options} if base else {}
        events = {e.id: e for e in base.events} if base else {}
        option_order = [o.name for o in base.options] if base else []
        event_order = [e.id for e in base.events] if base else []
        for kind, payload in statements[1:]:
            if kind == "filters":
                attrs, text_list = payload
                default, conditions = attrs["default"], tuple(text_list.split(","))
            elif kind == "options":
                option_order = payload
            elif kind == "option":
                opt = _option(payload)
                options[opt.name] = opt
            elif kind == "events":
                event_order = [int(v, 0) for v in payload]
            elif kind == "event":
                ev = _event(*payload)
                events[ev.id] = ev
        platforms = _platforms(name)
        return SchemaVersion(
            version=name,
            binary_version=header["binary"],
            default_condition=default,
            conditions=conditions,
            options=tuple(options[n] for n in option_order),
            events=tuple(events[i] for i in event_order),
            platforms=platforms,
        )

    def __iter__(self) -> Iterator[SchemaVersion]:
        return iter([self._load(name) for name in self._files])

    def get(self, version: str) -> SchemaVersion:
        """The schema named exactly (``"4.90"``) or by the same number (``"4.9"``)."""
        if version in self._files:
            return self._load(version)
        packed = parse_version(version)
        for name in self._files:
            if parse_version(name) == packed:
                return self._load(name)
        raise SchemaVersionError(
            f"unknown schema version {version!r}; known: {', '.join(self._files)}"
        )

    def newest(self, platform: Platform = "windows") -> SchemaVersion:
        return self._load(_NEWEST[platform]).for_platform(platform)

    def dtd_schema_for(self, packed: int, platform: Platform = "windows", *,
                       newest_packed: int | None = None) -> SchemaVersion:
        """The schema whose DTD a config declaring ``packed`` is validated against.

        Sysmon's ``GetDtdFormat``: the newest schema only on an exact match; otherwise the newest
        schema not above the declared version, never one below 4.0 (those are rejected).
        ``newest_packed`` asks what an older Sysmon, whose newest schema that is, would pick.
        """
        newest = self.newest(platform) if newest_packed is None else \
            self.get(format_version(newest_packed)).for_platform(platform)
        if packed == newest.packed:
            return newest
        # Chosen by name and number alone, so only the chosen version's chain is parsed.
        candidates = sorted(
            ((parse_version(n) or 0, n) for n in self._files if platform in _platforms(n)),
            reverse=True,
        )
        for number, name in candidates:
            if 0x40000 <= number < newest.packed and packed >= number:
                return self._load(name).for_platform(platform)
        raise SchemaVersionError(
            f"Incorrect or unsupported schema version {format_version(packed)}. "
            f"Current Sysmon schema version {newest.label}"
        )


def _platforms(name: str) -> frozenset[str]:
    return frozenset({"windows"}) if name in _WINDOWS_ONLY_VERSIONS else frozenset({"windows", "linux"})


@functools.cache
def registry() -> SchemaRegistry:
    return SchemaRegistry()


def all_versions() -> list[SchemaVersion]:
    return list(registry())


@functools.cache
def field_types(event_id: int) -> dict[str, str]:
    """Every EventData name Sysmon has used for this event id, in any schema version and on any
    platform, with its manifest ``inType`` (``win:UInt16``, ``win:GUID``...) as the newest
    version declaring it gives it; {} for an id no version has."""
    types: dict[str, str] = {}
    for version in sorted(registry(), key=lambda v: v.packed):
        event_type = version.events_by_id.get(event_id)
        if event_type is not None:
            types.update((f.name, f.in_type) for f in event_type.fields)
    return types


def schema_for(version: str, platform: Platform | None = None) -> SchemaVersion:
    schema = registry().get(version)
    return schema.for_platform(platform) if platform else schema


def newest(platform: Platform = "windows") -> SchemaVersion:
    return _cached_newest(platform)


def dtd_schema_for(packed: int, platform: Platform = "windows", *, newest_packed: int | None = None) -> SchemaVersion:
    return _cached_dtd_schema(packed, platform, newest_packed)


# Cached: narrowing to a platform builds a new SchemaVersion, whose derived tables (rule elements,
# field indexes) would otherwise be rebuilt for every config validated.
@functools.cache
def _cached_newest(platform: Platform) -> SchemaVersion:
    return registry().newest(platform)


@functools.cache
def _cached_dtd_schema(packed: int, platform: Platform, newest_packed: int | None) -> SchemaVersion:
    return registry().dtd_schema_for(packed, platform, newest_packed=newest_packed)
