"""Decided record batches grouped by what a Summary or a Comparison counts, in Arrow.

Each batch is grouped once by (hour, host, event id, RuleName, decision, rule set), and only the
groups, not the rows, are touched in Python: ``Summary.add_batch`` counts them into the same
counters as the per-event ``Summary.add``, so a replay in batches reports exactly what a replay
event by event reports (the CLI tests hold them equal).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

_HOUR_CHARS = 13  # "YYYY-MM-DD HH": all volume.hour_of reads
_KEY_LIMIT = 1 << 62  # the groups' combined codes are int64


@dataclass(frozen=True, slots=True)
class Group:
    """Rows alike in what is counted, and how many: ``hour`` is UtcTime's first 13 characters."""

    hour: str | None
    host: str | None
    event_id: int
    rule_name: str | None  # as decided: an empty one is counted as none
    decision: str
    count: int
    set_index: int | None = None  # the deciding rule set's position in the table (a summary's)
    rule_name_a: str | None = None  # the first config's, in a comparison's groups
    decision_a: str = ""


def _text(batch: pa.RecordBatch, name: str) -> pa.Array:
    """A string column of the batch (dictionary or not), all null when the batch lacks it."""
    if name not in batch.schema.names:
        return pa.nulls(batch.num_rows, pa.string())
    column = batch.column(name)
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    return column if pa.types.is_string(column.type) else pc.cast(column, pa.string())


def _grouped(columns: dict[str, pa.Array]) -> dict[str, list[object]]:
    """The distinct rows of ``columns`` and how many of each (``count_all``), column by column:
    lists, not a dictionary per group, which the callers' loops would only take apart again.

    Each column's dictionary codes (null: one code more) are combined into one number per row,
    whose distinct values are counted and taken apart again, all in Arrow's kernels: Acero's
    group_by gives the same groups, but loading it costs more than a replay of 50k events
    spends grouping."""
    # (encoded here even when already a dictionary: one value may have two codes in a given one)
    encoded_columns = {name: pc.dictionary_encode(column.dictionary_decode() if pa.types.is_dictionary(column.type)
                                                  else column) for name, column in columns.items()}
    if math.prod(len(c.dictionary) + 1 for c in encoded_columns.values()) >= _KEY_LIMIT:
        return _grouped_by_acero(columns)  # (thousands of distinct values in most columns)
    key: pa.Array | None = None
    dictionaries: list[tuple[str, pa.Array, pa.Scalar]] = []
    for name, encoded in encoded_columns.items():
        size = len(encoded.dictionary)
        codes = pc.fill_null(encoded.indices.cast(pa.int64()), pa.scalar(size, pa.int64()))
        width = pa.scalar(size + 1, pa.int64())
        key = codes if key is None else pc.add(pc.multiply(key, width), codes)
        dictionaries.append((name, pa.concat_arrays([encoded.dictionary, pa.nulls(1, encoded.dictionary.type)]),
                             width))
    assert key is not None
    counted = pc.value_counts(key)
    rest = counted.field("values")
    found: dict[str, list[object]] = {}
    for name, dictionary, width in reversed(dictionaries):
        quotient = pc.divide(rest, width)
        found[name] = pc.take(dictionary, pc.subtract(rest, pc.multiply(quotient, width))).to_pylist()
        rest = quotient
    return {**{name: found[name] for name in columns}, "count_all": counted.field("counts").to_pylist()}


def _grouped_by_acero(columns: dict[str, pa.Array]) -> dict[str, list[object]]:
    """:func:`_grouped` when the combined codes would not fit in 63 bits (the same groups)."""
    counted = pa.table(columns).group_by(list(columns), use_threads=False).aggregate([([], "count_all")])
    return counted.to_pydict()  # type: ignore[no-any-return]


# The field columns the summary's groups read, besides the meta columns (EventID, Computer).
FIELDS_READ = frozenset({"UtcTime"})
# One group of a summary: hour, host, event id, RuleName (None: none), decision, deciding set, count.
SummaryRow = tuple["str | None", "str | None", int, "str | None", str, "int | None", int]


def summary_groups(batch: pa.RecordBatch, result: pa.Table | pa.RecordBatch) -> Iterator[SummaryRow]:
    """The rows of ``batch`` decided as ``result`` (decide_batch's columns), grouped by hour, host,
    event id, RuleName, decision and the position of the deciding rule set: each with its count
    (tuples in ``SummaryRow`` order: the summary counts tens of thousands of groups)."""
    hours = pc.utf8_slice_codeunits(_text(batch, "UtcTime"), 0, _HOUR_CHARS)  # FIELDS_READ
    groups = _grouped({"hour": hours, "host": _text(batch, "Computer"), "id": batch.column("EventID"),
                       "name": _column(result, "rule_name"), "decision": _column(result, "decision"),
                       "set": _column(result, "rule_set")})
    return zip(*groups.values(), strict=True)


def comparison_groups(batch: pa.RecordBatch, a: pa.Table | pa.RecordBatch,
                      b: pa.Table | pa.RecordBatch) -> list[Group]:
    """The rows of ``batch`` decided as ``a`` by the first config and ``b`` by the other, grouped
    by hour, host, event id and both decisions and RuleNames (``decision``/``rule_name`` are b's)."""
    hours = pc.utf8_slice_codeunits(_text(batch, "UtcTime"), 0, _HOUR_CHARS)
    groups = _grouped({"hour": hours, "host": _text(batch, "Computer"), "id": batch.column("EventID"),
                       "name_a": _column(a, "rule_name"), "decision_a": _column(a, "decision"),
                       "name": _column(b, "rule_name"), "decision": _column(b, "decision")})
    return [Group(_str(hour), _str(host), _int(event_id), _str(name), str(decision), _int(count),
                  rule_name_a=_str(name_a), decision_a=str(decision_a))
            for hour, host, event_id, name_a, decision_a, name, decision, count in zip(*groups.values(), strict=True)]


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value


def _column(result: pa.Table | pa.RecordBatch, name: str) -> pa.Array:
    column = result.column(name)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    return column
