"""Events as Arrow record batches: the one columnar layout of the Parquet collector and exporter.

Columns (documented in docs/fleet.md, kept stable):

- ``EventID`` int32; ``record`` int64 (the record id, null when the input has none); ``line``
  int64 (line in a text input, null otherwise); ``source`` and ``Computer`` strings
  (dictionary-encoded), ``Computer`` null when unknown;
- one dictionary-encoded string column per EventData field name Sysmon has used in any schema
  version, null where the event does not carry the field (``UtcTime`` among them);
- ``extra_fields`` map<string, string>: fields outside Sysmon's names (null when none), so
  nothing an input held is lost.

Every batch has all of these columns in this order, so batches of any source concatenate and
stream into one Parquet file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cache

import pyarrow as pa

from ..events import Event, Origin

META = ("EventID", "record", "line", "source", "Computer")
EXTRA = "extra_fields"
BATCH_ROWS = 8_192  # rows of a stream's batch (EventStream.batches says why this many)
TEXT = pa.dictionary(pa.int32(), pa.string())  # the type of every text column
_EXTRA_TYPE = pa.map_(pa.string(), pa.string())


@cache
def field_names() -> tuple[str, ...]:
    """Every EventData name of every event type in every schema version, sorted."""
    from ..schema import all_versions

    return tuple(sorted({n for v in all_versions() for e in v.events for n in e.field_names} - set(META)))


@cache
def schema() -> pa.Schema:
    meta = [pa.field("EventID", pa.int32(), nullable=False), pa.field("record", pa.int64()),
            pa.field("line", pa.int64()), pa.field("source", TEXT), pa.field("Computer", TEXT)]
    return pa.schema(meta + [pa.field(n, TEXT) for n in field_names()] + [pa.field(EXTRA, _EXTRA_TYPE)])


# Why an event cannot become a row: Arrow strings are UTF-8, which has no lone surrogates.
UNENCODABLE = "a value or name with a lone UTF-16 surrogate (Arrow strings are UTF-8)"


def encodable(event: Event) -> bool:
    """Can every name and value of the event be written as UTF-8?"""
    try:
        for name, value in event.fields.items():
            name.encode("utf-8")
            value.encode("utf-8")
        origin = event.origin or _NO_ORIGIN
        origin.source.encode("utf-8")
        (origin.computer or "").encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def to_batch(events: Sequence[Event], unencodable: Callable[[Event], None] | None = None) -> pa.RecordBatch:
    """One record batch of ``events`` in :func:`schema`'s layout.

    An event Arrow cannot hold (see :data:`UNENCODABLE`) is handed to ``unencodable`` and left
    out; without that callback it is a ``ValueError``.
    """
    try:
        return _to_batch(events)
    except UnicodeEncodeError:
        kept = []
        for event in events:
            if encodable(event):
                kept.append(event)
            elif unencodable is None:
                raise ValueError(f"{event.origin or 'an event'}: {UNENCODABLE}") from None
            else:
                unencodable(event)
        return _to_batch(kept)


def _to_batch(events: Sequence[Event]) -> pa.RecordBatch:
    origins = [e.origin or _NO_ORIGIN for e in events]
    return from_rows([e.event_id for e in events], [e.fields for e in events], [o.record for o in origins],
                     [o.line for o in origins], [o.source for o in origins], [o.computer for o in origins])


def from_rows(event_ids: list[int], fields: Sequence[Mapping[str, str]], records: list[int | None],
              lines: list[int | None], sources: list[str], computers: list[str | None]) -> pa.RecordBatch:
    """A batch from per-row lists (the collectors' fast paths build these without Event objects).

    The field dictionaries are turned into columns by Arrow itself (one struct conversion), so
    no Python loop runs per field; a value that is not a string raises ``pa.ArrowTypeError``.
    """
    columns = plain_columns(event_ids, fields, records, lines, computers)
    columns["source"] = pa.array(sources, pa.string())
    return from_columns(columns)


def plain_columns(event_ids: list[int], fields: Sequence[Mapping[str, str]], records: list[int | None],
                  lines: list[int | None], computers: list[str | None]) -> dict[str, pa.Array]:
    """The columns of :func:`from_rows` but ``source``, before dictionary encoding: one per
    field name present (null where a row lacks it) and ``extra_fields``."""
    known = _known()
    seen: set[str] = set().union(*fields) if fields else set()
    present = [n for n in field_names() if n in seen]
    # Only the names present: Arrow looks each struct field up in every row's dictionary.
    struct = pa.array(fields, pa.struct([(n, pa.string()) for n in present])).flatten() if present else []
    extra = [None if known.issuperset(f) else [(k, v) for k, v in f.items() if k not in known] for f in fields]
    return {"EventID": pa.array(event_ids, pa.int32()), "record": pa.array(records, pa.int64()),
            "line": pa.array(lines, pa.int64()), "Computer": pa.array(computers, pa.string()),
            **dict(zip(present, struct, strict=True)), EXTRA: pa.array(extra, _EXTRA_TYPE)}


def from_columns(columns: Mapping[str, pa.Array]) -> pa.RecordBatch:
    """A batch from plain columns (as :func:`plain_columns` gives, with ``source``): the text
    columns dictionary-encoded (unless they are already), a field column missing or all null as nulls."""
    count = len(columns["EventID"])
    arrays: list[pa.Array] = [columns["EventID"], columns["record"], columns["line"],
                              _encoded(columns["source"]), _encoded(columns["Computer"])]
    absent = pa.nulls(count, TEXT)  # one array for every field no row has (arrays are immutable)
    for name in field_names():
        column = columns.get(name)
        arrays.append(_encoded(column) if column is not None and column.null_count < count else absent)
    arrays.append(columns[EXTRA])
    return pa.RecordBatch.from_arrays(arrays, schema=schema())


def _encoded(column: pa.Array) -> pa.Array:
    return column if column.type == TEXT else column.dictionary_encode()


@cache
def _known() -> frozenset[str]:
    return frozenset(field_names())


def conform(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A batch from elsewhere (a Parquet file of another writer) in :func:`schema`'s layout.

    Missing columns become null and field columns of other types strings (a number as its
    decimal text). Columns the layout does not name are left out: no filter can read them.
    """
    target = schema()
    arrays = []
    for field in target:
        if field.name in batch.schema.names:
            column = batch.column(field.name)
            arrays.append(column if column.type == field.type else _cast(column, field.type, field.name))
        else:
            arrays.append(pa.nulls(batch.num_rows, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=target)


def _cast(column: pa.Array, target: pa.DataType, name: str) -> pa.Array:
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pa.types.is_dictionary(target):
        return column.cast(pa.string()).dictionary_encode()
    try:
        return column.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"column {name!r} has type {column.type}, expected {target}") from exc


def batches(events: Iterable[Event], rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """Record batches of up to ``rows`` events each, in order."""
    chunk: list[Event] = []
    for event in events:
        chunk.append(event)
        if len(chunk) >= rows:
            yield to_batch(chunk)
            chunk = []
    if chunk:
        yield to_batch(chunk)


def concat_batches(parts: Sequence[pa.RecordBatch]) -> pa.RecordBatch:
    """One batch of the rows of ``parts`` (all in :func:`schema`'s layout), in order."""
    table = pa.Table.from_batches(parts, schema()).unify_dictionaries().combine_chunks()
    return table.to_batches()[0] if table.num_rows else parts[0]


def to_events(batch: pa.RecordBatch) -> Iterator[Event]:
    """The events of a batch in :func:`schema`'s layout (the inverse of :func:`to_batch`)."""
    data = batch.to_pydict()
    names = [n for n in field_names() if n in data and batch.column(n).null_count < batch.num_rows]
    extra = data.get(EXTRA) or [None] * batch.num_rows
    for row in range(batch.num_rows):
        fields = {n: v for n in names if (v := data[n][row]) is not None}
        if extra[row]:
            fields.update(extra[row])
        origin = Origin(data["source"][row] or "", data["record"][row], data["line"][row], data["Computer"][row])
        yield Event.read(data["EventID"][row], fields, origin)


_NO_ORIGIN = Origin("")
