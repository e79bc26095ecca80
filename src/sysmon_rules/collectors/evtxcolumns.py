"""EVTX records straight to Arrow columns: the ``evtx`` collector's batch path.

Building an :class:`~sysmon_rules.events.Event` per record and then a batch from the events
costs about 30 us of Python per record, five times the ``evtx`` parser itself. Here the Sysmon
records of the usual shape (an integer ``EventID``, a text ``Computer``, EventData an object) of
one file stay an :class:`EvtxRows` block: a sequence per column (event ids, record ids, hosts,
EventData), and many blocks, of many files, become one batch:

- a replay's reading (``Source.columns``) has its EventData decoded as a struct of the fields
  it reads; the structs are made columns a slice of records at a time (``astuple`` and ``zip``
  in C), each converted by one Arrow call when its values are all text, and rendered by
  :func:`evtxvalues.render` otherwise (numbers, booleans, ``#text`` objects, mixed types);
- a reading of every field groups the rows by their EventData names (records of one event type
  and schema version share them, in order), splits each group's values into columns by ``zip``,
  renders each field by one Arrow conversion for all the groups whose values are of one JSON
  type, and puts the rows back in input order with one ``take`` per column;
- columns are dictionary-encoded, and bare GUIDs braced once per column, on its distinct values.

So the batch is, value for value, what ``arrow.to_batch`` gives for the events
:meth:`EvtxRows.events` builds (the differential tests hold it to that over the whole corpus and
drawn records); anything Arrow refuses (a file name that is not UTF-8) takes that exact path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from itertools import chain, repeat
from operator import attrgetter, itemgetter
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from ..events import Event, Origin
from .arrow import EXTRA, field_names, schema, to_batch
from .evtxvalues import BARE_GUID, GUID_SUFFIXES, fields_of, render

# The bare-GUID pattern as a whole-value RE2 match (RE2's $ is the end of the text only).
_BARE_GUID = pc.MatchSubstringOptions(f"^{BARE_GUID}$")
_NONE = type(None)
# The value types one Arrow conversion renders (bool is its own type in Python's eyes here).
_ONE_TYPE = ({str, _NONE}, {int, _NONE}, {bool, _NONE})
# Typed scalars: pyarrow converting a bare Python value looks for dateutil on every call (~0.1 ms).
_OPEN, _CLOSE, _EMPTY = (pa.scalar(text, pa.string()) for text in ("{", "}", ""))


class EvtxRows:
    """Sysmon records of one file, parsed but not yet events: many of them, of many files, become
    one batch. Each sequence holds one value per record, in input order."""

    __slots__ = ("columns", "computers", "data", "event_ids", "records", "source")

    def __init__(self, source: str, event_ids: Sequence[int], data: Sequence[Any], records: Sequence[int | None],
                 computers: Sequence[str | None], columns: frozenset[str] | None = None) -> None:
        self.source = source
        self.event_ids = event_ids
        # Each record's EventData: with ``columns``, its ``projected(columns)`` struct (the fields
        # read, absent ones None, a JSON null as ""); without, the object as parsed (None when it
        # has no fields).
        self.data = data
        self.records = records
        self.computers = computers
        self.columns = columns  # the source's ``columns``: the fields a batch must hold (None: all)

    def __len__(self) -> int:
        return len(self.event_ids)

    def split(self, at: int) -> tuple[EvtxRows, EvtxRows]:
        """The first ``at`` records and the rest (``EventStream.batches`` cuts batches so)."""
        return (EvtxRows(self.source, self.event_ids[:at], self.data[:at], self.records[:at], self.computers[:at],
                         self.columns),
                EvtxRows(self.source, self.event_ids[at:], self.data[at:], self.records[at:], self.computers[at:],
                         self.columns))

    def events(self) -> list[Event]:
        """The events ``EvtxCollector.events`` gives for these records (with ``columns``: their
        fields that are read)."""
        datas: Iterable[Any] = self.data
        if self.columns is not None:
            names = projected(self.columns).__struct_encode_fields__
            datas = ({name: value for name, value in zip(names, msgspec.structs.astuple(data), strict=True)
                      if value is not None} for data in self.data)
        return [Event.read(event_id, fields_of(data) if data else {}, Origin(self.source, record, None, computer))
                for event_id, data, record, computer in zip(self.event_ids, datas, self.records, self.computers,
                                                            strict=True)]

    @staticmethod
    def to_batch(blocks: Sequence[EvtxRows], unencodable: Callable[[Event], None] | None = None) -> pa.RecordBatch:
        """The records of ``blocks`` as one batch in ``arrow.schema()``'s layout, in order."""
        try:
            asked = {block.columns for block in blocks}
            rows = _Rows(blocks)
            if len(asked) == 1 and None not in asked:
                return _projected_columns(rows, blocks, projected(*asked))
            if len(asked) > 1:  # rows of streams reading other fields
                return to_batch([e for block in blocks for e in block.events()], unencodable)
            return _columns(rows, [data for block in blocks for data in block.data])
        except UnicodeEncodeError:  # a source name Arrow cannot hold: the events' path names each one
            return to_batch([e for block in blocks for e in block.events()], unencodable)


class _Rows:
    """The records of many blocks: their event ids, record ids, hosts and file names."""

    def __init__(self, blocks: Sequence[EvtxRows]) -> None:
        def joined(part: Callable[[EvtxRows], Iterable[Any]]) -> list[Any]:
            return list(chain.from_iterable(map(part, blocks)))

        self.event_ids: list[int] = joined(attrgetter("event_ids"))
        self.records: list[int | None] = joined(attrgetter("records"))
        self.computers: list[str | None] = joined(attrgetter("computers"))
        self.sources: list[str] = joined(lambda block: repeat(block.source, len(block)))
        self.count = len(self.event_ids)


# Records turned into columns at once: their tuples and iterators stay under the garbage
# collector's first threshold (700), so they are freed before it looks (else it runs, and
# promotes them, several times a batch).
_SLICE = 128


def _transposed(structs: list[msgspec.Struct], width: int) -> list[list[Any]]:
    """The structs' values as ``width`` columns."""
    columns: list[list[Any]] = [[] for _ in range(width)]
    for start in range(0, len(structs), _SLICE):
        for column, part in zip(columns, zip(*map(msgspec.structs.astuple, structs[start:start + _SLICE]),
                                             strict=True), strict=True):
            column.extend(part)
    return columns


# A value of EventData that is not null: a JSON null makes the record take the exact path,
# which keeps it apart from an absent field (None) by rendering it as "".
_VALUE = str | int | float | bool | dict | list  # type: ignore[type-arg]


@cache
def projected(columns: frozenset[str]) -> type[msgspec.Struct]:
    """The EventData struct of a reading of ``columns``: the known fields among them, in
    ``field_names`` order, absent ones None; the JSON names kept apart from attribute names."""
    names = [name for name in field_names() if name in columns]
    return msgspec.defstruct("EventData", [(f"f{i}", _VALUE, None) for i in range(len(names))],  # null: not a _VALUE
                             rename=dict(zip([f"f{i}" for i in range(len(names))], names, strict=True)))


def as_projected(data: dict[str, Any] | None, columns: frozenset[str]) -> msgspec.Struct:
    """An EventData object as its ``projected(columns)`` struct (a JSON null as "": as rendered)."""
    kind = projected(columns)
    data = data or {}
    return kind(*("" if (value := data.get(name, _ABSENT)) is None else None if value is _ABSENT else value
                  for name in kind.__struct_encode_fields__))


_ABSENT = object()



def _projected_columns(rows: _Rows, blocks: Sequence[EvtxRows], kind: type[msgspec.Struct]) -> pa.RecordBatch:
    """The batch of blocks holding ``kind`` structs: each field's values over all the rows at once
    (absent: None, null in the column), rendered as :func:`_render` renders them."""
    parts: dict[str, list[tuple[int, pa.Array]]] = {}
    names = kind.__struct_encode_fields__
    for name, column in zip(names, _transposed(list(chain.from_iterable(map(attrgetter("data"), blocks))),
                                                len(names)), strict=True):
        try:  # text (or absent) in every row, the usual column: Arrow refuses anything else
            present = pa.array(column, pa.string())
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            present = _render_present(name, column, set(map(type, column)))
        if present.null_count < len(present):
            parts[name] = [(0, present)]
    return _assemble(rows, list(range(rows.count)), parts, {})


def _render_present(name: str, values: Sequence[Any], kinds: set[type]) -> pa.Array:
    """``render`` of each value, None (an absent field) as null; bare GUIDs left for
    :func:`_braced_dictionary`."""
    try:
        if kinds <= {str, _NONE}:
            return pa.array(values, pa.string())
        if kinds <= {int, _NONE}:
            return pa.array(values, pa.int64()).cast(pa.string())
        if kinds <= {bool, _NONE}:
            return pa.array(values, pa.bool_()).cast(pa.string())
    except OverflowError:  # an integer beyond 64 bits: Python's own decimal text, below
        pass
    return pa.array([None if value is None else render(name, value) for value in values], pa.string())


def _columns(rows: _Rows, datas: list[dict[str, Any] | None]) -> pa.RecordBatch:
    groups: dict[tuple[str, ...], list[int]] = {}
    for position, data in enumerate(datas):
        groups.setdefault(tuple(data) if data else (), []).append(position)
    order: list[int] = []
    pieces: dict[str, list[tuple[int, tuple[Any, ...]]]] = {}  # name -> (group start in `order`, its values)
    extras: dict[int, list[tuple[str, str]]] = {}
    known = frozenset(field_names())
    for names, members in groups.items():
        start = len(order)
        order.extend(members)
        picked = [n for n in names if n[:1] != "#"]  # the element's own attributes ("#...") are not fields
        if not picked:
            continue
        members_data: list[dict[str, Any]] = [datas[i] for i in members]  # type: ignore[misc]  # names: a dict
        values = [tuple(map(itemgetter(picked[0]), members_data))] if len(picked) == 1 else \
            zip(*map(itemgetter(*picked), members_data), strict=True)
        for name, column in zip(picked, values, strict=True):
            if name in known:
                pieces.setdefault(name, []).append((start, column))
                continue
            for i, value in zip(members, _render(name, column, braces=True).to_pylist(), strict=True):
                extras.setdefault(i, []).append((name, value))
    return _assemble(rows, order, {name: _rendered(name, found) for name, found in pieces.items()}, extras)


def _rendered(name: str, pieces: list[tuple[int, tuple[Any, ...]]]) -> list[tuple[int, pa.Array]]:
    """Each group's values of one known field rendered (bare GUIDs left for ``_braced_dictionary``):
    by one Arrow conversion for all the groups when their values share one JSON type."""
    kinds = [set(map(type, values)) for _, values in pieces]
    alike = set().union(*kinds)
    if len(pieces) == 1 or not any(alike <= kind for kind in _ONE_TYPE):
        return [(start, _render(name, values, braces=False, kinds=kind))
                for (start, values), kind in zip(pieces, kinds, strict=True)]
    column = _render(name, tuple(chain.from_iterable(values for _, values in pieces)), braces=False, kinds=alike)
    spans, at = [], 0
    for start, values in pieces:
        spans.append((start, column.slice(at, len(values))))
        at += len(values)
    return spans


def _render(name: str, values: tuple[Any, ...], braces: bool, kinds: set[type] | None = None) -> pa.Array:
    """``render(name, value)`` for each value, by Arrow when the values share one JSON type
    (``kinds``: their types, when known); without ``braces``, bare GUIDs in text are left for
    :func:`_braced_dictionary`."""
    kinds = set(map(type, values)) if kinds is None else kinds
    nulls = _NONE in kinds
    try:
        if kinds <= {str, _NONE}:
            column = pa.array(values, pa.string())
            if braces and name[-4:] in GUID_SUFFIXES:
                column = _braced_guids(column)
        elif kinds <= {int, _NONE}:  # bool is its own type here: never mixed in
            column = pa.array(values, pa.int64()).cast(pa.string())
        elif kinds <= {bool, _NONE}:
            column = pa.array(values, pa.bool_()).cast(pa.string())  # Arrow writes true/false, as Windows
        else:
            return pa.array([render(name, v) for v in values], pa.string())
    except OverflowError:  # an integer beyond 64 bits: Python's own decimal text
        return pa.array([render(name, v) for v in values], pa.string())
    return pc.fill_null(column, _EMPTY) if nulls else column  # null renders as empty text


def _braced_dictionary(column: pa.DictionaryArray) -> pa.DictionaryArray:
    """:func:`_braced_guids` over the distinct values only. Exact on a whole column: what is not
    text rendered a bare GUID already has its braces (``render``), and no other rendering
    (digits, true/false, a float, a list) is a bare GUID."""
    braced = _braced_guids(column.dictionary)
    if braced is column.dictionary:
        return column
    return braced.take(column.indices).dictionary_encode()  # braces can make two values one


def _braced_guids(column: pa.Array) -> pa.Array:
    """Bare GUIDs as ``{lower-case}``, the rest untouched (``render`` for GUID-named fields)."""
    bare = pc.match_substring_regex(column, options=_BARE_GUID)
    if not pc.any(bare).as_py():
        return column
    braced = pc.binary_join_element_wise(_OPEN, pc.utf8_lower(column), _CLOSE, _EMPTY)
    return pc.if_else(bare, braced, column)


def _assemble(rows: _Rows, order: list[int], parts: dict[str, list[tuple[int, pa.Array]]],
              extras: dict[int, list[tuple[str, str]]]) -> pa.RecordBatch:
    count, layout = rows.count, schema()
    back = pc.sort_indices(pa.array(order, pa.int64())) if order != list(range(count)) else None
    arrays: list[pa.Array] = [
        pa.array(rows.event_ids, pa.int32()), pa.array(rows.records, pa.int64()),
        pa.nulls(count, pa.int64()), pa.array(rows.sources, pa.string()).dictionary_encode(),
        pa.array(rows.computers, pa.string()).dictionary_encode(),
    ]
    for name in field_names():
        pieces = parts.get(name)
        if pieces is None:
            arrays.append(pa.nulls(count, layout.field(name).type))
            continue
        encoded = _spread(pieces, count).dictionary_encode()  # then take moves indices, not text
        if back is not None:
            encoded = encoded.take(back)
        arrays.append(_braced_dictionary(encoded) if name[-4:] in GUID_SUFFIXES else encoded)
    extra = layout.field(EXTRA).type
    arrays.append(pa.array([extras.get(i) for i in range(count)], extra) if extras else pa.nulls(count, extra))
    return pa.RecordBatch.from_arrays(arrays, schema=layout)


def _spread(pieces: list[tuple[int, pa.Array]], count: int) -> pa.Array:
    """One column in group order: each group's values, nulls for the groups without the field."""
    chunks: list[pa.Array] = []
    at = 0
    for start, values in pieces:
        if start > at:
            chunks.append(pa.nulls(start - at, pa.string()))
        chunks.append(values)
        at = start + len(values)
    if at < count:
        chunks.append(pa.nulls(count - at, pa.string()))
    return pa.concat_arrays(chunks) if len(chunks) > 1 else chunks[0]
