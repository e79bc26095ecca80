"""Counting decided record batches into a Summary, a Comparison and their Volumes, in Arrow.

The per-event ``Summary.add`` and these grouped counts feed the same counters, so a replay in
batches reports exactly what a replay event by event reports (the CLI tests hold them equal).
Each batch is grouped once by (hour, host, event id, RuleName, decision), and only the groups,
not the rows, are touched in Python.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from .report import Comparison, Summary
    from .ruletable import RuleSet
    from .volume import Volume

_HOUR_CHARS = 13  # "YYYY-MM-DD HH": all volume.hour_of reads


def _text(batch: pa.RecordBatch, name: str) -> pa.Array:
    """A string column of the batch (dictionary or not), all null when the batch lacks it."""
    if name not in batch.schema.names:
        return pa.nulls(batch.num_rows, pa.string())
    column = batch.column(name)
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    return column if pa.types.is_string(column.type) else pc.cast(column, pa.string())


def _grouped(columns: dict[str, pa.Array]) -> list[dict[str, object]]:
    table = pa.table(columns)
    counted = table.group_by(list(columns), use_threads=False).aggregate([([], "count_all")])
    return counted.to_pylist()  # type: ignore[no-any-return]


def add_to_summary(summary: Summary, batch: pa.RecordBatch, result: pa.Table | pa.RecordBatch,
                   rule_sets: Sequence[RuleSet]) -> None:
    """``summary.add`` for every row of ``batch`` decided as ``result`` (decide_batch's columns)."""
    hours = pc.utf8_slice_codeunits(_text(batch, "UtcTime"), 0, _HOUR_CHARS)
    groups = _grouped({"hour": hours, "host": _text(batch, "Computer"), "id": batch.column("EventID"),
                       "name": _column(result, "rule_name"), "decision": _column(result, "decision"),
                       "set": _column(result, "rule_set")})
    for g in groups:
        count = int(g["count_all"])  # type: ignore[call-overload]
        decision, name, event_id = str(g["decision"]), g["name"], int(g["id"])  # type: ignore[call-overload]
        summary.events += count
        summary.by_id.setdefault(event_id, Counter())[decision] += count
        if name:
            summary.rule_names[str(name)] += count
            summary.name_decisions.setdefault(str(name), Counter())[decision] += count
        if g["set"] is not None:
            summary.matched.add(id(rule_sets[int(g["set"])]))  # type: ignore[call-overload]
        _add_volume(summary.volume, g, name, decision, count)


def add_to_comparison(comparison: Comparison, batch: pa.RecordBatch, a: pa.Table | pa.RecordBatch,
                      b: pa.Table | pa.RecordBatch) -> None:
    """``comparison.add`` for every row, decided as ``a`` by the first config and ``b`` by the other."""
    hours = pc.utf8_slice_codeunits(_text(batch, "UtcTime"), 0, _HOUR_CHARS)
    groups = _grouped({"hour": hours, "host": _text(batch, "Computer"), "id": batch.column("EventID"),
                       "name_a": _column(a, "rule_name"), "decision_a": _column(a, "decision"),
                       "name": _column(b, "rule_name"), "decision": _column(b, "decision")})
    for g in groups:
        count = int(g["count_all"])  # type: ignore[call-overload]
        decision_a, decision_b = str(g["decision_a"]), str(g["decision"])
        comparison.events += count
        comparison.by_id.setdefault(int(g["id"]), Counter())[decision_a, decision_b] += count  # type: ignore[call-overload]
        if g["name_a"]:
            comparison.names_a[str(g["name_a"])] += count
        if g["name"]:
            comparison.names_b[str(g["name"])] += count
        if (decision_a, g["name_a"]) != (decision_b, g["name"]):
            comparison.changed += count
        _add_volume(comparison.volume, g, g["name"], decision_b, count)


def _add_volume(volume: Volume, group: dict[str, object], name: object, decision: str, count: int) -> None:
    host = group["host"]
    volume.add(group["hour"] if isinstance(group["hour"], str) else None, host if isinstance(host, str) else None,
               int(group["id"]), str(name) if name else None, decision, count)  # type: ignore[call-overload]


def _column(result: pa.Table | pa.RecordBatch, name: str) -> pa.Array:
    column = result.column(name)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    return column
