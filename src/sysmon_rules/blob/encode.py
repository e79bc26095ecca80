"""Config or RuleTable -> blob bytes.

``to_blob`` compiles a Config (``blob.compile``: Sysmon's bytes, quirks included) or writes a
RuleTable as it stands. ``encode_table`` writes a RuleTable directly through the same layout and
builder as the compiler: the bytes Sysmon would write for a config whose elements produce exactly
these rule sets, in this order (aggregations before their filters).
"""

from __future__ import annotations

from ..model import Config
from ..ruletable import RuleTable
from ..schema.model import Platform
from .builder import RuleBuilder
from .compile import compile_config
from .layout import AGGREGATION_NAME_UNITS, NAME_UNITS, BlobFormat, encode_wchar, format_for_writing


def to_blob(config: Config | RuleTable, *, binary_version: int | None = None,
            platform: Platform | str = "windows") -> bytes:
    """The rule blob Sysmon stores for this config (binary 18 unless ``binary_version`` says)."""
    if isinstance(config, RuleTable):
        return encode_table(config, binary_version=binary_version)
    return compile_config(config, binary_version=binary_version, platform=platform).data


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
