"""``parquet``: events in Parquet files, read and written in the ``collectors.arrow`` layout.

Reading takes any Parquet file with an ``EventID`` column and field columns named as Sysmon
names them (ours, or a SIEM export): the other layout columns are optional. Row groups are read
one at a time (memory holds one), and are the unit the distributed replay partitions by.

Writing (:class:`ParquetSink`) streams record batches into one file, atomically: the file
appears whole when the sink closes, or not at all.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from ..events import Event
from .base import CollectorError, Source

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
        raise CollectorError(f"{source.name}: not a readable Parquet file: {exc}") from exc


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
                yield _with_source(conform(batch), source.name)

    def events(self, source: Source) -> Iterator[Event]:
        from .arrow import to_events

        for batch in self.batches(source):
            yield from to_events(batch)


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


class ParquetSink:
    """``with ParquetSink(path) as sink: sink.write(batch)``; the file appears when it closes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.rows = 0
        self._temp: str | None = None
        self._writer: pq.ParquetWriter | None = None

    def write(self, batch: pa.RecordBatch) -> None:
        import pyarrow.parquet as pq

        if self._writer is None:
            try:
                fd, self._temp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
            except OSError as exc:
                raise CollectorError(f"{self.path}: cannot write: {exc.strerror or exc}") from exc
            os.close(fd)
            self._writer = pq.ParquetWriter(self._temp, batch.schema, compression="zstd")
        self._writer.write_batch(batch)
        self.rows += batch.num_rows

    def close(self, keep: bool = True) -> None:
        """Finish the file and move it into place (or drop it when ``keep`` is false)."""
        if self._writer is not None:
            self._writer.close()
        if self._temp is not None:
            if keep:
                os.replace(self._temp, self.path)
            else:
                Path(self._temp).unlink(missing_ok=True)
        self._writer = self._temp = None

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(keep=kind is None)
