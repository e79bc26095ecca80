"""Config -> rule blob, exactly as Sysmon's ``ApplyConfigurationFile`` rules loop builds it.

The order of work and what is dropped come from the one walk (``sysmon_rules.configwalk``), which the
validator reports from too; this module replays each step's attempts into bytes, including the
attempts Sysmon undoes (an event id of the series that lacks a field: its aggregation ids stay
consumed). The bytes come from ``RuleBuilder``, whose quirks the builder module reproduces.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import TypeVar

from ..configwalk import Attempt, Placed, PlacedItem, walk
from ..errors import ConfigValidationError, Diagnostic, Location, SysmonRulesError
from ..model import Config, EventRules, RuleGroup
from ..ruletable import (
    COMBINE_AND,
    COMBINE_OR,
    RULE_DEFAULT_NAMES,
    Aggregation,
    RuleFilter,
    RuleSet,
    RuleTable,
    combine_of,
    rule_default_of,
)
from ..schema import EventType, SchemaVersion, ascii_lower, parse_version
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

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: the bytes in base64 with their size and SHA-256, the format, the warnings."""
        return {"binary_version": format_name(self.table.binary_version), "size": len(self.data),
                "sha256": hashlib.sha256(self.data).hexdigest(), "base64": base64.b64encode(self.data).decode("ascii"),
                "rule_sets": len(self.table.rule_sets), "warnings": [w.to_dict() for w in self.warnings]}


def rule_default_for(ev: EventRules, candidate: EventType) -> int:
    """``GetRuleMatch`` of onmatch, else ``GetRuleDefault`` of the legacy default attribute (which
    names the RuleDefault itself); a value neither knows means the event's own default."""
    if ev.onmatch is not None:
        chosen = rule_default_of(ascii_lower(ev.onmatch))
    else:
        chosen = RULE_DEFAULT_NAMES.get(ascii_lower(ev.default or ""))
    if chosen is None:  # the manifest's ruledefault; none means exclude
        chosen = RULE_DEFAULT_NAMES.get(candidate.ruledefault or "", RULE_DEFAULT_NAMES["exclude"])
    return chosen


def default_combine(packed_version: int) -> int:
    """Without a RuleGroup relation: AND above 4.1, else OR (Sysmon's own double arithmetic)."""
    as_double = (packed_version >> 16) * 1.0 + (packed_version & 0xFFFF) * 0.01
    return COMBINE_AND if as_double > 4.1 else COMBINE_OR


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
    def __init__(self, config: Config, version: int, schema: SchemaVersion, *, keep_bytes: bool = True) -> None:
        packed = parse_version(config.schema_version)
        if packed is None:
            raise _error("schema-version", f"not a Sysmon schema version: {config.schema_version!r}",
                         config.location)
        self.packed = packed
        self.schema = schema
        self.fmt = format_for_writing(version)
        self.conditions = conditions_for(version)
        # No builder: the rule table only (the sets are the same; lint needs no bytes).
        self.builder = RuleBuilder(self.fmt, version, packed) if keep_bytes else None
        self.sets: list[_PendingSet] = []
        self.aggregation_id = 0
        self.version = version
        self.warnings: list[Diagnostic] = []
        self.lost_kinds: set[str] = set()

    def run(self, config: Config) -> tuple[bytes, tuple[RuleSet, ...]]:
        for step in walk(config, self.schema, conditions=self.conditions, silent="warning"):
            if step.fatal:
                raise ConfigValidationError([step.fatal[0]])  # Sysmon stops at its first
            self.warnings.extend(step.silent)
            for attempt in step.attempts:
                self.attempt(step.group, step.element, attempt)
        data = self.builder.detach() if self.builder is not None else b""
        return data, tuple(s.freeze() for s in self.sets)

    def attempt(self, group: RuleGroup | None, ev: EventRules, attempt: Attempt) -> None:
        """Add the event and what the attempt placed; undo the event if a field broke it."""
        combine = default_combine(self.packed)
        if group is not None:
            combine = combine_of(group.group_relation, combine)
        if not self.fmt.has_combine:
            combine = self.lost("combine", "groupRelation (the format has no combine type; sets are OR)", COMBINE_OR)
        pending = _PendingSet(attempt.event.id, rule_default_for(ev, attempt.event), combine, ev.location)
        if self.builder is not None:
            self.builder.add_event(pending.event_id, pending.rule_default, combine)
        self.sets.append(pending)
        for item in attempt.items:
            self.item(item, pending)
        if not attempt.fits:
            if self.builder is not None:
                self.builder.undo_event()
            self.sets.pop()

    def item(self, item: PlacedItem, pending: _PendingSet) -> None:
        aggregation_id = 0
        if item.rule is not None:
            self.aggregation_id += 1  # consumed even by an attempt that is undone, as in Sysmon
            aggregation_id = self.aggregation_id
            raw_name = encode_wchar(item.rule.name or "", AGGREGATION_NAME_UNITS)
            combine = combine_of(item.rule.group_relation, COMBINE_OR)
            if self.builder is not None:
                self.builder.add_aggregation(aggregation_id, raw_name, combine)
            cut = raw_name.decode("utf-16-le", "surrogatepass").split("\0", 1)[0]
            if self.fmt.aggregation is None:
                aggregation_id = self.lost("rule", "<Rule> grouping (its filters join the event's set)", 0)
            else:
                pending.aggregations.append(Aggregation(aggregation_id, cut, combine))
        for placed in item.filters:
            self.add_filter(placed, aggregation_id, pending)

    def add_filter(self, placed: Placed, aggregation_id: int, pending: _PendingSet) -> None:
        flt, name, condition = placed.filter, placed.name, placed.condition
        assert condition is not None  # an unknown condition made the step fatal
        if name and not self.fmt.has_names:
            name = self.lost("name", "rule names (the format stores none)", None)
        value = flt.value.split("\0", 1)[0]
        if self.builder is not None:
            data = value.encode("utf-16-le", "surrogatepass") + b"\0\0"
            self.builder.add_filter(placed.field_id, encode_wchar(name or "", NAME_UNITS), condition, data,
                                    aggregation_id)
        pending.filters.append(RuleFilter(placed.field_id, condition, value, name or "", aggregation_id,
                                          flt.location))

    def lost(self, what: str, text: str, value: _T) -> _T:
        """An old format cannot store this: say so once, and use what the blob will hold."""
        if what not in self.lost_kinds:
            self.lost_kinds.add(what)
            self.warnings.append(Diagnostic("old-format", "warning",
                                            f"binary {format_name(self.version)} drops {text}"))
        return value


def compile_config(config: Config, *, binary_version: int | None = None, platform: str = "windows",
                   table_only: bool = False) -> CompiledBlob:
    """Compile as Sysmon would; ``binary_version`` picks an older blob format (default 18.0).
    ``table_only``: build the rule table and no bytes (``data`` is empty), for checks that read
    only the table."""
    version = BINARY_18 if binary_version is None else binary_version
    if not is_known_version(version):
        raise SysmonRulesError(f"no Sysmon writes binary version {format_name(version)} (0x{version:08x})")
    plat = as_platform(platform)
    compiler = _Compiler(config, version, writer_schema(version, plat, parse_version(config.schema_version)),
                         keep_bytes=not table_only)
    data, sets = compiler.run(config)
    table = RuleTable(binary_version=version, schema_version=compiler.packed, rule_sets=sets)
    return CompiledBlob(data, table, tuple(compiler.warnings))
