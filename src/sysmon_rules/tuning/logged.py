"""The events a config logs, kept once from a replay: the rows every proposal is measured on.

LOGS are read and decided by the batch replay ``evaluate`` uses (``replay.decided``, counted into
a :class:`~sysmon_rules.report.Summary`), and the logged rows are kept with only the columns a
proposal can test, the deciding RuleName and set, and the host-day the budget counts them under
(the day as ``volume.day_of(volume.hour_of(UtcTime))``, the host as the record's Computer: events
without either count under one unknown day or host, as ``evaluate --budget`` counts them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..collectors import EventStream
from ..engine import Evaluator
from ..replay import decided
from ..report import Summary
from ..volume import day_of, hour_of
from .fields import all_fields

EVENT_ID = "EventID"
HOST, DAY = "Computer", "day"
RULE_NAME, RULE_SET = "rule_name", "rule_set"
HostDay = tuple[str, str | None]  # (day, host): the budget's bucket


@dataclass
class Logged:
    """The logged rows of a replay (``table``), its Summary, and what reading found."""

    table: pa.Table
    summary: Summary
    stream: EventStream

    def host_days(self) -> list[HostDay]:
        """Each row's (day, host), in row order."""
        days = self.table.column(DAY).to_pylist()
        hosts = self.table.column(HOST).to_pylist()
        return list(zip(days, hosts, strict=True))


def _strings(batch: pa.RecordBatch | pa.Table, name: str) -> pa.Array:
    """A column as plain strings (all null when absent), whatever its encoding in the source."""
    if name not in batch.schema.names:
        return pa.nulls(batch.num_rows, pa.string())
    column = batch.column(name)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    return column if pa.types.is_string(column.type) else pc.cast(column, pa.string())


def _kept(batch: pa.RecordBatch, result: pa.Table) -> pa.Table:
    """The logged rows of one decided batch, with the columns tuning reads."""
    logged = pc.equal(_strings(result, "decision"), "include")
    columns = {EVENT_ID: pc.cast(batch.column(EVENT_ID), pa.int32()), "UtcTime": _strings(batch, "UtcTime"),
               HOST: _strings(batch, HOST)}
    columns.update({name: _strings(batch, name) for name in all_fields()})
    columns[RULE_NAME] = _strings(result, RULE_NAME)
    rule_set = result.column(RULE_SET)
    columns[RULE_SET] = pc.cast(rule_set.combine_chunks() if isinstance(rule_set, pa.ChunkedArray) else rule_set,
                                pa.int32())
    return pa.table(columns).filter(logged)


def _with_days(table: pa.Table) -> pa.Table:
    """Add the budget's day per row, from the same functions the Volume counts with."""
    hours = pc.utf8_slice_codeunits(table.column("UtcTime"), 0, 13)
    distinct = pc.unique(hours).to_pylist()
    days = pa.array([day_of(hour_of(h)) for h in distinct], pa.string())
    return table.append_column(DAY, pc.take(days, pc.index_in(hours, pa.array(distinct, pa.string()))))


def read_logged(evaluator: Evaluator, sources: Sequence[str | Path], *, collector: str | None = None,
                strict: bool = False, warn: Callable[[str], None] | None = None) -> Logged:
    """Replay ``sources`` through ``evaluator``: its Summary and the rows it logs."""
    stream = EventStream([str(s) for s in sources], collector=collector, strict=strict, warn=warn)
    summary = Summary()
    parts = [_kept(batch, result) for batch, result, _ in decided(stream.batches(), evaluator, summary)]
    if not parts:
        from ..collectors.arrow import to_batch

        empty = to_batch([])
        parts = [_kept(empty, evaluator.decide_batch(empty))]
    return Logged(_with_days(pa.concat_tables(parts)), summary, stream)
