"""Config -> rule blob, exactly as Sysmon's ``ApplyConfigurationFile`` rules loop builds it.

The order of work is Sysmon's: for each rule element name in manifest order (a "series" such as
RegistryEvent = 12, 13, 14), every such element in document order; each element is tried against
the series' event ids in turn, and the first id whose field table has every field wins. A field no
id has ("Incorrect field") undoes the event and ends that element name: later elements of the same
name are dropped, and Sysmon still reports success. The bytes come from ``RuleBuilder``, whose
quirks the builder module reproduces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

from ..errors import ConfigValidationError, Diagnostic, Location, SysmonRulesError
from ..model import Config, EventRules, Filter, Rule, RuleGroup
from ..ruletable import (
    COMBINE_AND,
    COMBINE_OR,
    MAX_NAME_BYTES,
    RULE_DEFAULT_EXCLUDE,
    RULE_DEFAULT_INCLUDE,
    Aggregation,
    RuleFilter,
    RuleSet,
    RuleTable,
)
from ..schema import EventType, SchemaVersion, ascii_lower, condition_index, parse_version
from ..schema.model import as_platform
from .builder import RuleBuilder
from .layout import (
    AGGREGATION_NAME_UNITS,
    BINARY_18,
    NAME_UNITS,
    conditions_for,
    encode_wchar,
    format_for_writing,
    format_name,
    is_known_version,
    writer_schema,
)

_T = TypeVar("_T")


@dataclass(frozen=True)
class CompiledBlob:
    """The blob's bytes, what they mean, and what Sysmon would have printed while building them."""

    data: bytes
    table: RuleTable
    warnings: tuple[Diagnostic, ...] = ()


class _Outcome(Enum):
    ADDED = "added"  # the element became a RULE_EVENT
    SKIPPED = "skipped"  # onmatch/default problem: nothing added, the series goes on
    RETRY = "retry"  # a field this event id lacks: try the next id of the series


def rule_default_for(ev: EventRules, candidate: EventType) -> int:
    """``GetRuleMatch`` (inverted: onmatch include = drop by default) or legacy ``GetRuleDefault``."""
    if ev.onmatch is not None:
        value, include, exclude = ev.onmatch, RULE_DEFAULT_EXCLUDE, RULE_DEFAULT_INCLUDE
    else:
        value, include, exclude = ev.default or "", RULE_DEFAULT_INCLUDE, RULE_DEFAULT_EXCLUDE
    folded = ascii_lower(value)
    if folded == "include":
        return include
    if folded == "exclude":
        return exclude
    return RULE_DEFAULT_INCLUDE if candidate.ruledefault == "include" else RULE_DEFAULT_EXCLUDE


def default_combine(packed_version: int) -> int:
    """Without a RuleGroup relation: AND above 4.1, else OR (Sysmon's own double arithmetic)."""
    as_double = (packed_version >> 16) * 1.0 + (packed_version & 0xFFFF) * 0.01
    return COMBINE_AND if as_double > 4.1 else COMBINE_OR


def relation(value: str | None, default: int) -> int:
    if not value:
        return default
    return COMBINE_OR if ascii_lower(value) == "or" else COMBINE_AND


def _error(code: str, message: str, location: Location) -> ConfigValidationError:
    return ConfigValidationError([Diagnostic(code, "error", message, location)])


@dataclass
class _PendingSet:
    event_id: int
    rule_default: int
    combine: int
    location: Location
    filters: list[RuleFilter] = field(default_factory=list)
    aggregations: list[Aggregation] = field(default_factory=list)

    def freeze(self) -> RuleSet:
        return RuleSet(self.event_id, self.rule_default, self.combine, tuple(self.filters),
                       tuple(self.aggregations), self.location)


class _Compiler:
    def __init__(self, config: Config, version: int, schema: SchemaVersion) -> None:
        packed = parse_version(config.schema_version)
        if packed is None:
            raise _error("schema-version", f"not a Sysmon schema version: {config.schema_version!r}",
                         config.location)
        self.packed = packed
        self.schema = schema
        self.fmt = format_for_writing(version)
        self.conditions = conditions_for(version, self.fmt)
        self.builder = RuleBuilder(self.fmt, version, packed)
        self.sets: list[_PendingSet] = []
        self.aggregation_id = 0
        self.version = version
        self.warnings: list[Diagnostic] = []
        self.lost_kinds: set[str] = set()

    def run(self, config: Config) -> tuple[bytes, tuple[RuleSet, ...]]:
        by_name: dict[str, list[tuple[RuleGroup | None, EventRules]]] = {}
        for group, ev in config.event_rules():
            by_name.setdefault(ev.element, []).append((group, ev))
        for rulename, series in self.schema.rule_elements.items():
            for group, ev in by_name.get(rulename, ()):
                if not self.element(group, ev, series):
                    break  # "Incorrect field": the rest of this rule name is dropped
        return self.builder.detach(), tuple(s.freeze() for s in self.sets)

    def element(self, group: RuleGroup | None, ev: EventRules, series: tuple[EventType, ...]) -> bool:
        for candidate in series:
            outcome = self.attempt(group, ev, candidate)
            if outcome is not _Outcome.RETRY:
                return True
        self.warnings.append(Diagnostic("incorrect-field", "warning",
                                        f"Incorrect field in <{ev.element}>: it and every later "
                                        f"<{ev.element}> are dropped", ev.location))
        return False

    def attempt(self, group: RuleGroup | None, ev: EventRules, candidate: EventType) -> _Outcome:
        combine, group_name = default_combine(self.packed), None
        if group is not None:
            combine = relation(group.group_relation, combine)
            group_name = group.name or None
        if (ev.onmatch is None) == (ev.default is None):
            self.warnings.append(Diagnostic("missing-onmatch", "warning",
                                            f"<{ev.element}> needs exactly one of onmatch/default; "
                                            "Sysmon skips it", ev.location))
            return _Outcome.SKIPPED
        if not self.fmt.has_combine:
            combine = self.lost("combine", "groupRelation (the format has no combine type; sets are OR)", COMBINE_OR)
        pending = _PendingSet(candidate.id, rule_default_for(ev, candidate), combine, ev.location)
        self.builder.add_event(pending.event_id, pending.rule_default, combine)
        self.sets.append(pending)
        for item in ev.items:
            if not self.item(item, candidate, group_name, pending):
                self.builder.undo_event()
                self.sets.pop()
                return _Outcome.RETRY
        return _Outcome.ADDED

    def item(self, item: Filter | Rule, candidate: EventType, group_name: str | None, pending: _PendingSet) -> bool:
        name, aggregation_id, filters = group_name, 0, (item,) if isinstance(item, Filter) else item.filters
        if isinstance(item, Rule):
            self.aggregation_id += 1
            aggregation_id = self.aggregation_id
            name = item.name or group_name
            raw_name = encode_wchar(item.name or "", AGGREGATION_NAME_UNITS)
            combine = relation(item.group_relation, COMBINE_OR)
            self.builder.add_aggregation(aggregation_id, raw_name, combine)
            cut = raw_name.decode("utf-16-le", "surrogatepass").split("\0", 1)[0]
            if self.fmt.aggregation is None:
                aggregation_id = self.lost("rule", "<Rule> grouping (its filters join the event's set)", 0)
            else:
                pending.aggregations.append(Aggregation(aggregation_id, cut, combine))
        for flt in filters:
            field_id = candidate.field_index.get(flt.field)
            if field_id is None:
                return False
            self.add_filter(flt, field_id, flt.name or name, aggregation_id, pending)
        return True

    def add_filter(self, flt: Filter, field_id: int, name: str | None, aggregation_id: int,
                   pending: _PendingSet) -> None:
        if name and len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
            raise _error("name-too-long", f"Rule name is larger than 255 characters: {name[:40]}...",
                         flt.location)
        condition = self.condition(flt)
        if name and not self.fmt.has_names:
            name = self.lost("name", "rule names (the format stores none)", None)
        value = flt.value.split("\0", 1)[0]
        data = value.encode("utf-16-le", "surrogatepass") + b"\0\0"
        self.builder.add_filter(field_id, encode_wchar(name or "", NAME_UNITS), condition, data, aggregation_id)
        pending.filters.append(RuleFilter(field_id, condition, value, name or "", aggregation_id, flt.location))

    def lost(self, what: str, text: str, value: _T) -> _T:
        """An old format cannot store this: say so once, and use what the blob will hold."""
        if what not in self.lost_kinds:
            self.lost_kinds.add(what)
            self.warnings.append(Diagnostic("old-format", "warning",
                                            f"binary {format_name(self.version)} drops {text}"))
        return value

    def condition(self, flt: Filter) -> int:
        index = condition_index(flt.condition, self.conditions)
        if index is not None:
            return index
        raise _error("unknown-condition",
                     f"Unknown condition: {flt.condition}. Expected values are {', '.join(self.conditions)}",
                     flt.location)


def compile_config(config: Config, *, binary_version: int | None = None, platform: str = "windows") -> CompiledBlob:
    """Compile as Sysmon would; ``binary_version`` picks an older blob format (default 18.0)."""
    version = BINARY_18 if binary_version is None else binary_version
    if not is_known_version(version):
        raise SysmonRulesError(f"no Sysmon writes binary version {format_name(version)} (0x{version:08x})")
    plat = as_platform(platform)
    compiler = _Compiler(config, version, writer_schema(version, plat, parse_version(config.schema_version)))
    data, sets = compiler.run(config)
    table = RuleTable(binary_version=version, schema_version=compiler.packed, rule_sets=sets)
    return CompiledBlob(data, table, tuple(compiler.warnings))
