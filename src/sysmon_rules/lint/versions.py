"""What an older Sysmon would reject: ``--target-sysmon`` findings and ``--min-version``.

A Sysmon release validates a config against the DTD it picks for the declared schema version
(``dtd_schema_for`` with that release's newest schema) and builds rules with its own condition
table. So an event element, option or field the picked schema lacks, or a condition the
release's own schema lacks, makes it reject the file (or, for a field its events lack, drop the
element). The release table (``schema.releases``) says which schema each release reads.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import Diagnostic, Location, SysmonRulesError
from ..model import Config
from ..schema import SchemaVersion, all_versions, ascii_lower, dtd_schema_for, format_version, newest, parse_version
from ..schema.releases import RELEASES, Release, release_label, resolve_target
from ..validation import filters_of
from .catalog import RULES
from .context import LintContext

_CODE = "needs-newer-sysmon"


@dataclass(frozen=True)
class Feature:
    """Something a config uses that a schema may lack: what, where, and the schema it came with."""

    what: str
    location: Location
    first: int  # packed schema version it first appears in (0: unknown to every schema)
    event: str = ""  # for a field or condition: its event element (not reported again if that is unknown)
    builder: bool = False  # checked by the rule builder against the release's own table, not by the DTD

    def known_to(self, dtd: SchemaVersion, own: int) -> bool:
        """Known to a release whose own schema is ``own`` and that validates the file against ``dtd``."""
        return self.first != 0 and self.first <= (own if self.builder else dtd.packed)


@functools.cache
def _windows_schemas() -> tuple[SchemaVersion, ...]:
    return tuple(sorted((s.for_platform("windows") for s in all_versions() if "windows" in s.platforms),
                        key=lambda s: s.packed))


@functools.cache
def _first_seen() -> dict[tuple[str, ...], int]:
    """("event", E) / ("option", O) / ("field", E, F) / ("any-field", F) / ("condition", C) -> first schema."""
    first: dict[tuple[str, ...], int] = {}
    for schema in _windows_schemas():
        for name, series in schema.rule_elements.items():
            first.setdefault(("event", name), schema.packed)
            for event in series:
                for f in event.fields:
                    first.setdefault(("field", name, f.name), schema.packed)
        for field_name in schema.all_field_names:  # what the DTD lets a <Rule> hold
            first.setdefault(("any-field", field_name), schema.packed)
        for name in schema.config_options:
            first.setdefault(("option", name), schema.packed)
        for condition in schema.conditions:
            first.setdefault(("condition", condition), schema.packed)
    return first


def features(config: Config) -> list[Feature]:
    first = _first_seen()
    found = [Feature(f"<{o.name}>", o.location, first.get(("option", o.name), 0)) for o in config.options]
    for _group, ev in config.event_rules():
        found.append(Feature(f"<{ev.element}>", ev.location, first.get(("event", ev.element), 0)))
        for rule, flt in filters_of(ev):
            field = first.get(("field", ev.element, flt.field), 0)
            what = f"<{flt.field}> in <{ev.element}>"
            if rule is None:
                found.append(Feature(what, flt.location, field, ev.element))
            else:  # the DTD lets a <Rule> hold any field; the rule builder then wants the event's own
                found.append(Feature(what, flt.location, first.get(("any-field", flt.field), 0), ev.element))
                found.append(Feature(what, flt.location, field, ev.element, builder=True))
            condition = ascii_lower(flt.condition) if flt.condition else "is"
            found.append(Feature(f'condition "{condition}"', flt.location, first.get(("condition", condition), 0),
                                 ev.element, builder=True))
    return found


def schema_on(config: Config, newest: int) -> SchemaVersion | None:
    """The schema a Sysmon whose newest schema is ``newest`` validates this config against."""
    declared = parse_version(config.schema_version)
    if declared is None:
        return None
    try:
        return dtd_schema_for(declared, "windows", newest_packed=newest)
    except SysmonRulesError:
        return None


def check_versions(ctx: LintContext, target: str) -> Iterator[Diagnostic]:
    resolved = resolve_target(target)
    schema = schema_on(ctx.config, resolved.packed)
    severity = RULES[_CODE].severity
    if schema is None:
        yield Diagnostic(_CODE, severity, f"{resolved.label} rejects schemaversion=\"{ctx.config.schema_version}\"",
                         ctx.config.location)
        return
    via = "" if schema.packed == resolved.packed else f" (it validates this file against schema {schema.label})"
    known_events = set(schema.rule_elements)
    for feature in features(ctx.config):
        if feature.event and feature.event not in known_events:
            continue
        if not feature.known_to(schema, resolved.packed):
            needs = release_label(feature.first) if feature.first else "a schema no Sysmon has"
            yield Diagnostic(_CODE, severity, f"{feature.what} needs {needs}; the target is {resolved.label}{via}",
                             feature.location)


def check_declared(config: Config) -> Iterator[Diagnostic]:
    """``schema-version-unreleased``: Sysmon takes a version above its own as its own, silently."""
    declared = parse_version(config.schema_version)
    top = newest("windows")
    if declared is not None and declared > top.packed:
        code = "schema-version-unreleased"
        yield Diagnostic(code, RULES[code].severity,
                         f"schemaversion=\"{config.schema_version}\" is above every Sysmon release (the newest "
                         f"schema is {top.version}); Sysmon validates the file as {top.version} without a word",
                         config.location, f"declare the schema the config is written for, e.g. {top.version}")


def needs_schema(config: Config) -> Feature | None:
    """What needs the newest declared schema: the element, option or field the DTD of the declared
    version must have (conditions are the release's own, whatever the file declares)."""
    used = [f for f in features(config) if f.first and not f.builder]
    return max(used, key=lambda f: f.first, default=None)


def check_module(config: Config, build_version: str) -> Iterator[Diagnostic]:
    """``module-schema-too-old``: a module whose content needs a newer schema than it declares;
    the build writes ``build_version``, so it is a warning when that version has what it needs."""
    declared = parse_version(config.schema_version) or 0
    need = needs_schema(config)
    if need is None or need.first <= declared:
        return
    code = "module-schema-too-old"
    built = parse_version(build_version) or 0
    fits = "where it loads" if need.first <= built else "which does not have it either"
    yield Diagnostic(code, RULES[code].severity,
                     f"declares schemaversion=\"{config.schema_version}\" but {need.what} (line "
                     f"{need.location.line}) needs {release_label(need.first)}: Sysmon rejects the file alone (its "
                     f"DTD check); the build merges it into schema {build_version}, {fits}", config.location,
                     f"declare schemaversion=\"{format_version(need.first)}\"")


@dataclass(frozen=True)
class MinVersion:
    """The oldest known release that loads a config (None if none does), and why not an older one."""

    release: Release | None
    reason: str


def min_version(config: Config) -> MinVersion:
    used = features(config)
    unknown = [f for f in used if f.first == 0]
    if unknown:
        return MinVersion(None, f"{unknown[0].what} (line {unknown[0].location.line}) is in no Sysmon schema")
    blocker = "the declared schema version"
    for release in RELEASES:
        schema = schema_on(config, release.schema_packed) if release.schema_packed >= 0x40000 else None
        if schema is None:
            blocker = f'schemaversion="{config.schema_version}"'
            continue
        missing = [f for f in used if not f.known_to(schema, release.schema_packed)]
        if not missing:
            return MinVersion(release, _why(release, blocker))
        need = max(missing, key=lambda f: f.first)
        via = "" if schema.packed == release.schema_packed else \
            f", and it validates a file declaring {config.schema_version} against schema {schema.label}"
        blocker = f"{need.what} (line {need.location.line}) needs {release_label(need.first)}{via}"
    declared = parse_version(config.schema_version) or 0
    too_new = [f for f in used if f.first > declared]
    if declared and too_new:
        need = max(too_new, key=lambda f: f.first)
        blocker = (f"{need.what} (line {need.location.line}) needs {release_label(need.first)}, but the file "
                   f"declares schemaversion=\"{config.schema_version}\" and no Sysmon validates it against a "
                   "newer schema than that")
    return MinVersion(None, f"no known release loads it: {blocker}")


def _why(release: Release, blocker: str) -> str:
    before = [r for r in RELEASES if r.packed < release.packed]
    if not before:
        return "the oldest release known"
    return f"Sysmon {before[-1].sysmon} (schema {format_version(before[-1].schema_packed)}) would not: {blocker}"
