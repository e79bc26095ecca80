"""``parquet``: events in Parquet files, read and written in the ``collectors.arrow`` layout.

Reading takes any Parquet file with an ``EventID`` column and field columns named as Sysmon
names them (ours, or a SIEM export): the other layout columns are optional. Row groups are read
one at a time (memory holds one), and are the unit the distributed replay partitions by.

Writing (:func:`write_parquet`) streams record batches into one file through the one atomic
write of ``fileio``: the file appears whole when the last batch is written, or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..events import EVENT_IDS, Event
from .base import CollectorError, DamagedInput, Source

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

MAGIC = b"PAR1"


def _file(source: Source) -> pq.ParquetFile:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(source.open() if source.path is None else str(source.path))
    except (pa.ArrowException, OSError) as exc:
        raise DamagedInput(f"{source.name}: not a readable Parquet file: {exc}") from exc


def row_groups(source: Source) -> int:
    """How many row groups the file has (the partitions of a distributed replay)."""
    return int(_file(source).metadata.num_row_groups)


class ParquetCollector:
    """Parquet files in the ``collectors.arrow`` layout (or any with EventID and field columns)."""

    name = "parquet"
    description = "Parquet files: EventID, record, UtcTime, Computer, one column per field, source"

    def __init__(self, groups: range | None = None) -> None:
        self.groups = groups  # only these row groups (one partition of a distributed replay)

    def recognizes(self, head: bytes, name: str) -> bool:
        return head.startswith(MAGIC)

    def batches(self, source: Source) -> Iterator[pa.RecordBatch]:
        """The row groups (all, or those in ``self.groups``) as batches in the arrow layout."""
        import pyarrow as pa

        from .arrow import conform

        parquet = _file(source)
        if "EventID" not in parquet.schema_arrow.names:
            raise CollectorError(f"{source.name}: a Parquet file of events needs an 'EventID' column")
        groups = self.groups if self.groups is not None else range(parquet.metadata.num_row_groups)
        for index in groups:
            try:
                table = parquet.read_row_group(index)
            except (pa.ArrowException, OSError) as exc:
                source.skip(f"{source.name}#rowgroup{index}", str(exc).splitlines()[0])
                continue
            for batch in table.to_batches():
                yield _with_source(conform(_event_rows(batch, source, index)), source.name)

    def events(self, source: Source) -> Iterator[Event]:
        from .arrow import to_events

        for batch in self.batches(source):
            yield from to_events(batch)


def _event_rows(batch: pa.RecordBatch, source: Source, group: int) -> pa.RecordBatch:
    """The rows whose EventID is an event id; each other row is a damaged record, skipped."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = batch.column("EventID")
    if pa.types.is_dictionary(ids.type):
        ids = ids.dictionary_decode()
    try:
        ids = ids.cast(pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise CollectorError(f"{source.name}: column 'EventID' holds {ids.type}, not event ids") from exc
    valid = pc.fill_null(pc.and_(pc.greater_equal(ids, pa.scalar(EVENT_IDS.start, pa.int64())),
                                 pc.less(ids, pa.scalar(EVENT_IDS.stop, pa.int64()))), False)
    if pc.all(valid).as_py():
        return batch
    for row in pc.indices_nonzero(pc.invert(valid)).to_pylist():
        value = ids[row].as_py()
        source.skip(f"{source.name}#rowgroup{group}", f"row {row}: EventID {value} is not an event id (0-65535)")
    return batch.filter(valid)


def _with_source(batch: pa.RecordBatch, name: str) -> pa.RecordBatch:
    """Rows without a source name the Parquet file they were read from."""
    import pyarrow as pa
    import pyarrow.compute as pc

    index = batch.schema.get_field_index("source")
    column = batch.column(index)
    if column.null_count == 0:
        return batch
    filled = pc.fill_null(column.dictionary_decode(), name).dictionary_encode()
    return batch.set_column(index, pa.field("source", filled.type), filled)


class _Collected:
    """A write-only file for the Parquet writer that hands over what was written so far."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        return None

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def parquet_bytes(batches: Iterable[pa.RecordBatch], schema: pa.Schema | None = None) -> Iterator[bytes]:
    """A Parquet file of ``batches`` (one row group each), produced piece by piece as they come;
    with no batch at all, a file of ``schema``'s columns and no rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = _Collected()
    writer: pq.ParquetWriter | None = None
    for batch in batches:
        if writer is None:
            writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), batch.schema, compression="zstd")
        writer.write_batch(batch)
        yield sink.take()
    if writer is None:
        if schema is None:
            raise ValueError("parquet_bytes needs a schema when there is no batch")
        writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd")
    writer.close()
    yield sink.take()


def write_parquet(path: str | Path, batches: Iterable[pa.RecordBatch], schema: pa.Schema | None = None) -> None:
    """Write the batches to ``path`` through ``fileio.write_output`` (atomic, mode kept, ``-`` stdout)."""
    from ..fileio import write_output

    write_output(path, parquet_bytes(batches, schema))
