"""RuleTable -> blob bytes (a Config is compiled by ``blob.compile``, quirks included).

``encode_table`` writes a RuleTable directly through the same layout and builder as the compiler:
the bytes Sysmon would write for a config whose elements produce exactly these rule sets, in this
order (aggregations before their filters).
"""

from __future__ import annotations

from ..ruletable import RuleTable
from .builder import RuleBuilder
from .layout import AGGREGATION_NAME_UNITS, NAME_UNITS, BlobFormat, encode_wchar, format_for_writing


def encode_table(table: RuleTable, *, binary_version: int | None = None, fmt: BlobFormat | None = None) -> bytes:
    """A RuleTable's blob in the layout of ``binary_version`` (default: the table's own).

    ``fmt`` overrides the layout, for the one version word with two layouts (8.00: Sysmon 8.x
    wrote 16-byte events, Sysmon 9.0x 24-byte ones; ``decode_blob`` says which it found).
    """
    version = table.binary_version if binary_version is None else binary_version
    builder = RuleBuilder(fmt or format_for_writing(version), version, table.schema_version)
    for rule_set in table.rule_sets:
        builder.add_event(rule_set.event_id, rule_set.rule_default, rule_set.combine)
        written: set[int] = set()
        for flt in rule_set.filters:
            aggregation = rule_set.aggregation(flt.aggregation_id) if flt.aggregation_id else None
            if aggregation is not None and aggregation.id not in written:
                written.add(aggregation.id)
                builder.add_aggregation(aggregation.id, encode_wchar(aggregation.name, AGGREGATION_NAME_UNITS),
                                        aggregation.combine)
            data = flt.value.encode("utf-16-le", "surrogatepass") + b"\0\0"
            builder.add_filter(flt.field_id, encode_wchar(flt.name, NAME_UNITS), flt.condition, data,
                               flt.aggregation_id)
        for aggregation in rule_set.aggregations:  # filterless <Rule>s: nothing points at them
            if aggregation.id not in written:
                builder.add_aggregation(aggregation.id, encode_wchar(aggregation.name, AGGREGATION_NAME_UNITS),
                                        aggregation.combine)
    return builder.detach()
