"""The events a config logs, kept once from a replay: the rows every proposal is measured on.

LOGS are replayed with the library's ``replay`` (the same decisions and counts as ``evaluate``),
its Parquet sink writing each event's decision beside its columns to a temporary file; the logged
rows are read back with only the columns a proposal can test, the deciding RuleName and set, and
the host-day the budget counts them under (the day as ``replaying.volume.day_of(UtcTime)``,
the host as the record's Computer: events without either count under one unknown day or host, as
``evaluate --budget`` counts them).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..engine import Evaluator
from ..replaying import ParquetFile, ReplayResult, replay
from ..replaying.volume import day_of
from .fields import all_fields

EVENT_ID = "EventID"
HOST, DAY = "Computer", "day"
RULE_NAME, RULE_SET = "rule_name", "rule_set"
HostDay = tuple[str, str | None]  # (day, host): the budget's bucket


@dataclass
class Logged:
    """The logged rows of a replay (``table``) and the replay itself (summary, what was read)."""

    table: pa.Table
    replayed: ReplayResult

    def host_days(self) -> list[HostDay]:
        """Each row's (day, host), in row order."""
        days = self.table.column(DAY).to_pylist()
        hosts = self.table.column(HOST).to_pylist()
        return list(zip(days, hosts, strict=True))


def _strings(table: pa.Table, name: str) -> pa.Array:
    """A column as plain strings (all null when absent), whatever its encoding in the file."""
    if name not in table.schema.names:
        return pa.nulls(table.num_rows, pa.string())
    column = table.column(name).combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    return column if pa.types.is_string(column.type) else pc.cast(column, pa.string())


def _kept(table: pa.Table) -> pa.Table:
    """The logged rows, with the columns tuning reads and the budget's day."""
    table = table.filter(pc.equal(_strings(table, "decision"), "include"))
    columns = {EVENT_ID: pc.cast(table.column(EVENT_ID).combine_chunks(), pa.int32()),
               "UtcTime": _strings(table, "UtcTime"), HOST: _strings(table, HOST)}
    columns.update({name: _strings(table, name) for name in all_fields()})
    columns[RULE_NAME] = _strings(table, RULE_NAME)
    columns[RULE_SET] = pc.cast(table.column(RULE_SET).combine_chunks(), pa.int32())
    hours = pc.utf8_slice_codeunits(columns["UtcTime"], 0, 13)
    distinct = pc.unique(hours).to_pylist()
    days = pa.array([day_of(h) for h in distinct], pa.string())
    columns[DAY] = pc.take(days, pc.index_in(hours, pa.array(distinct, pa.string())))
    return pa.table(columns)


def read_logged(evaluator: Evaluator, sources: Sequence[str | Path], *, collector: str | None = None,
                strict: bool = False, warn: Callable[[str], None] | None = None) -> Logged:
    """Replay ``sources`` through ``evaluator``: the replay and the rows it logs."""
    with tempfile.TemporaryDirectory(prefix="sysmon-rules-tune-") as folder:
        path = Path(folder) / "decided.parquet"
        replayed = replay(evaluator, [str(s) for s in sources], collector=collector, strict=strict,
                          platform=evaluator.platform, warn=warn, sink=ParquetFile(path))
        wanted = {EVENT_ID, "UtcTime", HOST, RULE_NAME, RULE_SET, "decision", *all_fields()}
        table = pq.read_table(path, columns=[c for c in pq.read_schema(path).names if c in wanted])
    return Logged(_kept(table), replayed)
