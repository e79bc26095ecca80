"""A decoded blob -> the canonical config that compiles back to the same bytes.

Canonical form: one event element per rule set, in blob order; a ``<RuleGroup>`` only where the
set's combine type differs from the schema default or one name covers every filter; ``<Rule>``
where the blob has an aggregation (at its physical place among the filters); ``name`` on a field
only where it differs from what it would inherit. What XML cannot say (an event id the compiler
would not choose, an unknown field id, aggregation-id gaps, an old format's numbering) becomes a
note, which ``to_xml`` writes as a comment.
"""

from __future__ import annotations

from ..errors import SchemaVersionError, SysmonRulesError
from ..model import Config, EventRules, Filter, Rule, RuleGroup
from ..ruletable import COMBINE_AND, COMBINE_NAMES, Aggregation, RuleFilter, RuleSet
from ..schema import EventType, SchemaVersion, dtd_schema_for, format_version, parse_version
from ..schema.model import Platform
from .compile import compile_config, default_combine
from .decode import DecodedBlob
from .layout import AGGREGATION_NAME_UNITS, BINARY_15, BINARY_18, RULE_REG, conditions_for, format_name, writer_schema


class _Rebuilder:
    def __init__(self, decoded: DecodedBlob, platform: Platform) -> None:
        table = decoded.table
        self.decoded = decoded
        self.packed = table.schema_version
        self.platform = platform
        self.schema: SchemaVersion = writer_schema(table.binary_version, platform, table.schema_version)
        self.conditions = conditions_for(table.binary_version)
        self.notes: list[str] = []
        if table.binary_version not in (BINARY_15, BINARY_18):
            self.notes.append(f"decoded from binary format {format_name(table.binary_version)}; field and "
                              f"condition numbers read with schema {self.schema.version}'s tables. Compiling "
                              "this config writes a binary 18 blob, whose meaning may differ for old features")

    def config(self) -> Config:
        nodes: list[RuleGroup | EventRules] = []
        ranks = {name: i for i, name in enumerate(self.schema.rule_elements)}
        previous_rank = -1
        for index, rule_set in enumerate(self.decoded.table.rule_sets):
            node = self.node(rule_set, self.decoded.order[index])
            if node is None:
                continue
            element = node.events[0].element if isinstance(node, RuleGroup) else node.element
            if ranks.get(element, -1) < previous_rank:
                self.notes.append(f"rule set {index + 1} (<{element}>) follows a set of an element Sysmon "
                                  "compiles later; recompiling puts it earlier")
            previous_rank = max(previous_rank, ranks.get(element, -1))
            nodes.append(node)
        self._note_unloadable(nodes)
        return Config(schema_version=format_version(self.packed), filtering=tuple(nodes))

    def _note_unloadable(self, nodes: list[RuleGroup | EventRules]) -> None:
        """Say why the XML will not load where the blob's own schema version word makes it so
        (the XML declares the version the blob holds, faithfully)."""
        declared = format_version(self.packed)
        packed = parse_version(declared)
        if packed is None:
            self._note(f"the blob's schema version word 0x{self.packed:08x} reads as {declared}, which is no "
                       "schema version Sysmon accepts: this XML will not load until its schemaversion is set "
                       f"(the rules are read with schema {self.schema.version}'s tables)")
            return
        try:
            dtd = dtd_schema_for(packed, self.platform)
        except SchemaVersionError as exc:
            self._note(f"the blob declares schema {declared}, which Sysmon refuses ({exc.message}): this XML "
                       "will not load until its schemaversion is set")
            return
        elements = {e.element for node in nodes for e in (node.events if isinstance(node, RuleGroup) else [node])}
        missing = sorted(elements - set(dtd.rule_elements))
        if missing:
            self._note(f"schema {declared}, which the blob declares, has no {', '.join(f'<{m}>' for m in missing)} "
                       f"(its DTD is schema {dtd.version}'s): this XML will not load under that schemaversion")

    def node(self, rule_set: RuleSet, order: tuple[tuple[str, int], ...]) -> RuleGroup | EventRules | None:
        event = self.schema.events_by_id.get(rule_set.event_id)
        if event is None or not event.rulename:
            self._note(f"event id {rule_set.event_id} has no rule element in schema "
                       f"{self.schema.version}; its rule set is left out")
            return None
        self._check_id_choice(event, rule_set)
        group_name = _common_name(rule_set)
        items = self.items(event, rule_set, order, group_name or "")
        ev = EventRules(element=event.rulename, items=tuple(items), onmatch=rule_set.onmatch)
        default = default_combine(self.packed)
        if rule_set.combine not in COMBINE_NAMES:
            self._note(f"combine type {rule_set.combine} of a <{event.rulename}> set is neither OR nor AND")
        if rule_set.combine == default and not group_name:
            return ev
        relation = COMBINE_NAMES.get(rule_set.combine, "or")  # the DTD requires it on RuleGroup
        return RuleGroup(events=(ev,), group_relation=relation, name=group_name)

    def items(self, event: EventType, rule_set: RuleSet, order: tuple[tuple[str, int], ...], inherited: str
              ) -> list[Filter | Rule]:
        items: list[Filter | Rule] = []
        for kind, index in order:
            if kind == "a":
                items.append(self.rule(event, rule_set, rule_set.aggregations[index], inherited))
                continue
            flt = rule_set.filters[index]
            if not flt.aggregation_id:
                built = self.filter(event, flt, inherited)
                items.extend([built] if built else [])
            elif rule_set.aggregation(flt.aggregation_id) is None:
                self._note(f"filter on field {flt.field_id} points to a missing aggregation")
        return items

    def rule(self, event: EventType, rule_set: RuleSet, agg: Aggregation, inherited: str) -> Rule:
        members = [f for f in rule_set.filters if f.aggregation_id == agg.id]
        name = agg.name
        if len(name.encode("utf-16-le", "surrogatepass")) // 2 >= AGGREGATION_NAME_UNITS - 1 and members:
            name = members[0].name if members[0].name.startswith(name) else name  # the full name was cut
        filters = [f for f in (self.filter(event, m, name or inherited) for m in members) if f]
        return Rule(filters=tuple(filters), group_relation="and" if agg.combine == COMBINE_AND else None,
                    name=name or None)

    def filter(self, event: EventType, flt: RuleFilter, inherited: str) -> Filter | None:
        if flt.field_id >= len(event.fields):
            self._note(f"field id {flt.field_id} is not a field of {event.rulename} (event {event.id})")
            return None
        condition = flt.condition
        if condition >= len(self.conditions):
            self._note(f"filter type {condition} is not a known condition")
            return None
        if flt.name == inherited:
            name = None
        else:
            name = flt.name or None
            if not flt.name:
                self._note(f"a filter of {event.rulename} has no name inside a named Rule/RuleGroup")
        return Filter(field=event.fields[flt.field_id].name, value=flt.value,
                      condition=None if condition == 0 else self.conditions[condition], name=name)

    def _check_id_choice(self, event: EventType, rule_set: RuleSet) -> None:
        series = self.schema.rule_elements.get(event.rulename or "", ())
        used = {f.field_id for f in rule_set.filters}
        names = {event.fields[i].name for i in used if i < len(event.fields)}
        chosen = next((e for e in series if names <= set(e.field_index)), None)
        if chosen is not None and chosen.id != event.id:
            self._note(f"event {event.id} ({event.name}): Sysmon picks event {chosen.id} for a "
                       f"<{event.rulename}> with these fields, so XML cannot reproduce this set")

    def _note(self, text: str) -> None:
        self.notes.append(text)


def _common_name(rule_set: RuleSet) -> str | None:
    """One name on every filter and no aggregation name: say it once, on a RuleGroup."""
    names = {f.name for f in rule_set.filters}
    if len(names) == 1 and "" not in names and not any(a.name for a in rule_set.aggregations):
        return names.pop()
    return None


def rebuild(decoded: DecodedBlob, platform: Platform = "windows") -> tuple[Config, list[str]]:
    """The canonical config of a decoded blob and the notes on what it cannot express."""
    rebuilder = _Rebuilder(decoded, platform)
    config = rebuilder.config()
    notes = rebuilder.notes
    if not notes and decoded.data:
        notes += _recompile_differences(config, decoded, platform)
    return config, notes


def _recompile_differences(config: Config, decoded: DecodedBlob, platform: Platform) -> list[str]:
    """Check the claim instead of predicting it: does this config compile to these bytes?"""
    try:
        compiled = compile_config(config, binary_version=decoded.table.binary_version, platform=platform)
    except SysmonRulesError as exc:
        return [f"this config does not compile back: {exc}"]
    after_version = RULE_REG.offset_of("RuleCount")  # the version word may differ (15.0 stamped, 18 written)
    if compiled.data[after_version:] == decoded.data[after_version:]:
        return []
    if compiled.table.rule_sets == decoded.table.rule_sets:
        return ["recompiling gives the same rules but not the same bytes (stale bytes or offsets Sysmon "
                "left from elements it undid, e.g. aggregation ids with gaps, cannot be written as XML)"]
    return ["recompiling this XML does not give the same rules (e.g. aggregation ids consumed by elements "
            "Sysmon dropped, or layout details XML cannot state)"]


__all__ = ["rebuild"]
