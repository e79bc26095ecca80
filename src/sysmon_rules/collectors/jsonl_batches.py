"""JSON lines as record batches: canonical lines a block at a time through Arrow's JSON reader.

``JsonlCollector.batches`` gives the batches of its line-by-line reading (same rows, same batch
boundaries, same warnings and counts). Most inputs are our canonical lines, and parsing those
one at a time (orjson, then Arrow from Python dictionaries) was most of the replay's time, so a
block of lines is handed to Arrow's own JSON reader (C++, which also lets another thread run).

Exact or not taken: :func:`parse_block` answers only when every line of the block is one that
the line-by-line reading would take as canonical, with the very values it would read; any doubt
(a value that is not a string, a null, a duplicate key, an unknown field, a BOM, blank lines,
trailing spaces, invalid UTF-8, a lone surrogate, an id beyond int32, ...) sends the block's
lines the line-by-line way. Why the checks suffice is said beside each of them.
"""

from __future__ import annotations

import enum
import itertools
import os
import struct
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from ..events import EVENT_IDS, Event, Origin
from .arrow import EXTRA, TEXT, UNENCODABLE, field_names, from_columns, plain_columns, schema, to_batch
from .base import Source
from .lines import Block, Chunk, line_count

# Threads parsing blocks (Arrow's JSON reader releases the GIL); more would only queue here.
WORKERS = min(2, os.cpu_count() or 1)
# Bytes per block: big enough that the reader's fixed cost (about 1 ms a call) is small, small
# enough that a block with one odd line costs little when it is read line by line instead, and
# that the blocks parsed ahead (one per thread and one more) stay a few MiB.
BLOCK_BYTES = 1 << 20
# Blocks read and checked ahead while the projection is not known yet (a replay reads while its
# configs load): about a batch's worth, so that once it is told only Arrow's reading of them is
# left before the first batch. (More threads to check them would cost more CPU than they save.)
EARLY_BLOCKS = 8
# Rows per batch: a replay holds three batches at a time (being read, queued, being decided), so
# this bounds the memory; fewer rows cost a little more time per row in deciding.
BATCH_ROWS = 8_192
Fast = Callable[[bytes], "dict[str, Any] | None"]  # the line-by-line test: the object of a canonical line
# The line-by-line reading of any line (None: one over the limit): the events it completes.
Slow = Callable[[int, "bytes | None"], "list[Event]"]
Busy = Callable[[], bool]  # is the line-by-line reading inside a value written over many lines?


@cache
def _parse_options(names: tuple[str, ...] | None) -> pj.ParseOptions:
    fields = pa.struct([(name, pa.string()) for name in (field_names() if names is None else names)])
    layout = pa.schema([("EventID", pa.int64()), ("record", pa.int64()), ("Computer", pa.string()),
                        ("fields", fields)])
    # "error": a key outside the layout (an extra field, "event_id", ...) is the per-line path's.
    # "ignore" only for a projection, whose block passed ``_plain_shape`` (see there).
    return pj.ParseOptions(explicit_schema=layout, unexpected_field_behavior="error" if names is None else "ignore")


Names = tuple[str, ...] | None  # a projection: the fields kept (None: every one)


class Shape(enum.Enum):
    """What :func:`shape` found a block to be."""

    NOT_UTF8 = 0
    PLAIN = 1  # see ``_plain_shape``
    OTHER = 2  # anything else, or not looked at (no projection)


def shape(data: bytes, projected: bool) -> Shape:
    """The checks of a block that need no projection (``projected``: one will be read)."""
    try:
        # Arrow's reader stores string bytes unchecked: the block must be UTF-8 (as orjson requires).
        text = _utf8_checked(data)
    except pa.ArrowInvalid:
        return Shape.NOT_UTF8
    return Shape.PLAIN if projected and _plain_shape(text) else Shape.OTHER


def parse_block(data: bytes, count: int | None, names: Names | Callable[[], Names] = None, *,
                checked: Shape | None = None) -> pa.Table | None:
    """The ``count`` lines of ``data`` (None: not counted yet) as columns ``EventID``,
    ``record``, ``Computer``, ``fields`` (one row per line), or None unless each is a canonical
    line read exactly.

    With ``names`` (a projection), ``fields`` may hold only those fields: the others are read
    past, once the block's shape shows they are all strings (else every field is read). A
    callable ``names`` is called once the block is checked (it may wait for the projection).
    ``checked``: the block's :func:`shape`, when known already.
    """
    if checked is None:
        checked = shape(data, names is not None)
    if checked is Shape.NOT_UTF8:
        return None
    try:
        if callable(names):
            names = names()
        if checked is not Shape.PLAIN:
            names = None
        # A plain shape is one object a line without a null token (the two checks below hold),
        # whose values ``_canonical`` would take: its lines need no counting, each is a row.
        if names is None:
            count = count if count is not None else line_count(data)
            if not _one_object_per_line(data, count) or _may_hold_null(data):
                return None
        table = pj.read_json(pa.py_buffer(data), parse_options=_parse_options(names),
                             read_options=pj.ReadOptions(use_threads=False, block_size=len(data) + 1))
    except pa.ArrowInvalid:  # not JSON, a duplicate key, a value of another type, a lone surrogate
        return None
    if count not in (None, table.num_rows) or (names is None and not _canonical(table)):
        return None
    # One block read: one chunk a column (each Arrow call is a wait for the GIL on the way back).
    return table if all(column.num_chunks == 1 for column in table.columns) else table.combine_chunks()


def _utf8_checked(data: bytes) -> pa.Array:
    """``data`` as one Arrow string (no copy); ArrowInvalid unless it is UTF-8 (Arrow's check)."""
    offsets = pa.py_buffer(struct.pack("=ii", 0, len(data)))
    return pa.Array.from_buffers(pa.binary(), 1, [None, offsets, pa.py_buffer(data)]).cast(pa.string())


# One canonical line whose keys are EventID, fields, record, Computer (in this order, the last two
# optional) and whose fields are all strings. Read with the JSON tokens' own rules (a string ends
# at its first quote not escaped), so on text that is JSON (Arrow's reader checks that) it splits
# the line where JSON does: a match leaves no value in "fields" but strings, no other key. It also
# holds what ``_canonical`` asks: an event id 0-65535 (JSON has no leading zeros), a record id
# not below 0 (one beyond int64 fails Arrow's reading), a host that is not empty.
_STRING = r'"(?:[^"\\\n]|\\.)*"'
_PAIR = rf"{_STRING}[ \t]*:[ \t]*{_STRING}"
_SEP = r"[ \t]*,[ \t]*"
_EVENT_ID = r"(?:0|[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
_LINE = (rf'\{{[ \t]*"EventID"[ \t]*:[ \t]*{_EVENT_ID}{_SEP}"fields"[ \t]*:[ \t]*'
         rf'\{{[ \t]*(?:{_PAIR}(?:{_SEP}{_PAIR})*)?[ \t]*\}}'
         rf'(?:{_SEP}"record"[ \t]*:[ \t]*[0-9]+)?(?:{_SEP}"Computer"[ \t]*:[ \t]*"(?:[^"\\\n]|\\.)+")?[ \t]*\}}')
_PLAIN_BLOCK = rf"^(?:{_LINE}\r?\n)*{_LINE}\r?\n?$"


def _plain_shape(text: pa.Array) -> bool:
    """Is every line of the block (``text``, valid JSON objects one a line) a canonical line of
    strings only? Then a projected read, which reads past the fields it was not asked for, can
    miss nothing the line-by-line reading would see in them: a value that is not a string (a
    damaged record there), an unknown top-level key ("Hostname", "winlog": another host or
    shape). Unknown field names and duplicate keys among the skipped fields change nothing the
    projection's reader looks at (the line-by-line reading keeps them as fields no filter reads).
    One pass of RE2's automaton over the block."""
    return bool(pc.match_substring_regex(text, _PLAIN_BLOCK)[0].as_py())


def _one_object_per_line(data: bytes, count: int) -> bool:
    """Every line starts with '{' and ends with '}' (before its newline, or its CR LF).

    With the reader's row count equal to the line count, this makes each line exactly one JSON
    object: a raw newline cannot be inside a string, and after a '}' nothing but ',' '}' ']' or
    the end of the top-level object may follow, so no object reaches into the next line. (The
    ``count - 1`` newlines between the lines are the block's: ``lines.Block`` counted them.)
    """
    end = len(data) - data.endswith(b"\n")  # the last line's end, without copying the block
    if not (data.startswith(b"{") and data.endswith((b"}", b"}\r"), 0, end)):
        return False
    joints = data.count(b"}\n{", 0, end)
    if joints != count - 1 and data.find(b"\r", 0, end) >= 0:
        joints += data.count(b"}\r\n{", 0, end)
    return joints == count - 1


def _may_hold_null(data: bytes) -> bool:
    """Is there a JSON null? Arrow reads it as an absent key, the line-by-line test refuses it.

    A null is a value, so it follows ':' ',' or '[' (and spaces); "null" after anything else is
    inside a text ("/dev/null", "x=null"). Spaces too long to look past count as a null.
    """
    at = data.find(b"null")
    while at >= 0:
        before = data[max(0, at - 16):at].rstrip(b" \t\r\n")
        if not before or before[-1] in b":,[":
            return True
        at = data.find(b"null", at + 4)
    return False


def _canonical(table: pa.Table) -> bool:
    """What the line-by-line test asks beyond Arrow's types: an event id (``EVENT_IDS``) and the
    fields on every line, a record id not below 0, a host that is not empty. With
    no null token in the block, a null here is a key that is absent."""
    ids, fields = table.column("EventID"), table.column("fields")
    if ids.null_count or fields.null_count:
        return False
    low, high = pc.min_max(ids).values()
    records, computers = table.column("record"), table.column("Computer")
    if not (low.as_py() in EVENT_IDS and high.as_py() in EVENT_IDS):
        return False
    if records.null_count < len(records) and pc.min(records).as_py() < 0:
        return False
    return computers.null_count == len(computers) or bool(pc.min(pc.binary_length(computers)).as_py() > 0)


def parsed(chunks: Iterable[Chunk], workers: int = WORKERS,
           names: Callable[[], Names | Callable[[], Names]] = lambda: None, early: int = EARLY_BLOCKS
           ) -> Iterator[tuple[Block, pa.Table | None]]:
    """Each chunk of lines as a numbered block with its :func:`parse_block` (None for a line
    over the limit), in order; ``names()``: the projection of the next block to parse (asked
    block by block).

    Blocks are parsed ahead on worker threads: Arrow's reader runs without the GIL, so blocks
    parse side by side, and beside whatever the caller does with the ones before. A block not
    counted yet is counted by its table's rows where it has one. While the projection is still
    to be told (``names()`` gives a callable), the workers wait for it: up to ``early`` blocks
    are read and checked ahead meanwhile, here (Arrow's checks, without the GIL).
    """
    with ThreadPoolExecutor(workers) as pool:
        ahead: deque[tuple[Chunk, Future[pa.Table | None] | None]] = deque()
        number = 0

        def done() -> tuple[Block, pa.Table | None]:
            nonlocal number
            chunk, work = ahead.popleft()
            data, count = chunk.data, chunk.count
            table = work.result() if work is not None else None
            if count is None:
                assert data is not None
                count = table.num_rows if table is not None else line_count(data)
            number += count
            return Block(number - count + 1, count, data), table

        failure: Exception | None = None
        try:
            for chunk in chunks:
                wanted, work, data = names(), None, chunk.data
                if data is not None and callable(wanted):
                    work = pool.submit(parse_block, data, chunk.count, wanted, checked=shape(data, projected=True))
                elif data is not None:
                    work = pool.submit(parse_block, data, chunk.count, wanted)
                ahead.append((chunk, work))
                while len(ahead) > (early if callable(wanted) else workers):
                    yield done()
        except Exception as exc:  # the stream failed: the blocks read before it first, then the failure
            failure = exc
        while ahead:
            yield done()
        if failure is not None:
            raise failure


@dataclass
class _Piece:
    """Rows of one block that the reader parsed: a slice of its table, from line ``first`` on.

    The lines themselves are not kept (a batch would hold its whole text until built): what the
    line-by-line reading makes of them is in the table already (:meth:`events`)."""

    table: pa.Table
    first: int

    def events(self, source: str) -> Iterator[Event]:
        """The events the line-by-line reading gives for these lines (with the fields the table
        holds: every one, or a projection's)."""
        for n, row in enumerate(self.table.to_pylist()):
            fields = {name: value for name, value in row["fields"].items() if value is not None}
            yield Event.read(row["EventID"], fields, Origin(source, record=row["record"], line=self.first + n,
                                                            computer=row["Computer"]))


_Row = tuple[int, bytes, "dict[str, Any]"]  # a canonical line read by the line-by-line test


class Batcher:
    """The batches of the line-by-line reading, from blocks of lines and single lines.

    A batch gathers up to ``size`` rows; like the line-by-line reading, a line that is not
    canonical ends a batch that ends in a canonical line, and a batch of canonical lines only is
    built from columns (else each of its lines is read the line-by-line way).
    """

    def __init__(self, source: Source, size: int, fast: Fast, slow: Slow, busy: Busy = lambda: False) -> None:
        self.source, self.size, self._fast, self._slow, self._busy = source, size, fast, slow, busy
        self._items: list[_Piece | _Row | Event] = []
        self._rows = 0
        self._events = 0  # how many of the items are events (not canonical lines)

    def block(self, block: Block, table: pa.Table | None) -> Iterator[pa.RecordBatch]:
        """The batches completed by one block of lines, given its :func:`parse_block`."""
        if block.data is None:  # one line over the limit
            yield from self.line(block.first, None)
            return
        if table is None or self._busy():  # lines of a value begun before the block: read one by one
            for number, raw in block.lines():
                yield from self.line(number, raw)
            return
        offset = 0
        while offset < block.count:
            taken = min(block.count - offset, self.size - self._rows)
            self._add(_Piece(table.slice(offset, taken), block.first + offset), taken)
            offset += taken
            if self._rows >= self.size:
                yield self.flush()

    def line(self, number: int, raw: bytes | None) -> Iterator[pa.RecordBatch]:
        """The batches completed by one line (the line-by-line reading's step)."""
        obj = self._fast(raw) if raw is not None else None
        if obj is not None:
            self._add((number, raw, obj), 1)  # type: ignore[arg-type]  # raw is bytes here
            if self._rows >= self.size:
                yield self.flush()
            return
        if self._items and not isinstance(self._items[-1], Event):
            yield self.flush()  # earlier lines are checked first
        for event in self._slow(number, raw):  # a value of many records: a batch ends at each size
            self._items.append(event)
            self._rows += 1
            self._events += 1
            if self._rows >= self.size:
                yield self.flush()

    def _add(self, item: _Piece | _Row, rows: int) -> None:
        self._items.append(item)
        self._rows += rows

    def flush(self) -> pa.RecordBatch:
        """The batch of the rows gathered so far (there must be some), and a fresh start."""
        items, self._items, self._rows, events, self._events = self._items, [], 0, self._events, 0
        if not events:
            try:
                return _columns(items, self.source.name)
            except (pa.ArrowTypeError, pa.ArrowInvalid, UnicodeEncodeError):
                pass  # a value that is not a string, or not UTF-8: the exact path below names the line
        read: list[Event] = []
        for item in items:
            if isinstance(item, Event):
                read.append(item)
            elif isinstance(item, _Piece):
                read += item.events(self.source.name)
            else:
                read += self._slow(item[0], item[1])
        return to_batch(read, lambda e: self.source.skip(str(e.origin), UNENCODABLE))

    def __bool__(self) -> bool:
        return bool(self._items)


def _columns(items: list[_Piece | _Row | Event], source: str) -> pa.RecordBatch:
    """One batch from parsed pieces and canonical line objects: the batch ``arrow.from_rows``
    builds from the objects of all those lines (each part's plain columns, end to end)."""
    # Pieces may hold different fields (a projected block beside one read in full): joined by name.
    columns = _joined(items)
    count = len(columns["EventID"])
    # One source for every row: its dictionary array as dictionary_encode gives it, without a list.
    columns["source"] = pa.DictionaryArray.from_arrays(pa.repeat(pa.scalar(0, pa.int32()), count),
                                                       pa.array([source], pa.string()))
    return from_columns(columns)


def _joined(items: list[_Piece | _Row | Event]) -> dict[str, pa.Array]:
    pieces = [item for item in items if isinstance(item, _Piece)]
    if len(pieces) == len(items) and all(p.table.schema == pieces[0].table.schema for p in pieces):
        return _pieces_columns(pieces, encoded=True)  # the common case: blocks read alike
    parts: list[dict[str, pa.Array]] = []
    rows: list[_Row] = []
    pieces = []  # parsed alike (the same fields): their tables are joined first, in Arrow
    for item in [*items, None]:
        if pieces and not (isinstance(item, _Piece) and item.table.schema == pieces[0].table.schema):
            parts.append(_pieces_columns(pieces))
            pieces = []
        if isinstance(item, tuple):
            rows.append(item)
            continue
        if rows:
            objs = [obj for _, _, obj in rows]
            parts.append(plain_columns([o["EventID"] for o in objs], [o["fields"] for o in objs],
                                       [o.get("record") for o in objs], [n for n, _, _ in rows],
                                       [o.get("Computer") for o in objs]))
            rows = []
        if isinstance(item, _Piece):
            pieces.append(item)
    if len(parts) == 1:
        return parts[0]
    lengths = [len(p["EventID"]) for p in parts]
    names = {name for p in parts for name in p}
    return {name: _concat([p.get(name) for p in parts], lengths) for name in names}


def _pieces_columns(pieces: list[_Piece], encoded: bool = False) -> dict[str, pa.Array]:
    """Pieces of the same fields, one after the other: one table's columns (a column a call,
    not a call per column and piece)."""
    table = pa.concat_tables([p.table for p in pieces]) if len(pieces) > 1 else pieces[0].table
    return _table_columns(table, _numbers(pieces), encoded)


def _table_columns(table: pa.Table, numbers: pa.Array, encoded: bool = False) -> dict[str, pa.Array]:
    """Parsed lines' plain columns, as ``arrow.plain_columns`` gives them for the same lines;
    ``encoded``: their fields already dictionary-encoded, all in one call (a cast of the struct
    of fields to one of dictionaries, which encodes each as ``dictionary_encode`` does)."""
    fields = table.column("fields").combine_chunks()
    if encoded:
        fields = fields.cast(pa.struct([(f.name, TEXT) for f in fields.type]))
    columns = {f.name: column for f, column in zip(fields.type, fields.flatten(), strict=True)
               if column.null_count < len(column)}
    columns["EventID"] = table.column("EventID").combine_chunks().cast(pa.int32())
    columns["record"] = table.column("record").combine_chunks()
    columns["Computer"] = table.column("Computer").combine_chunks()
    columns["line"] = numbers
    columns[EXTRA] = pa.nulls(table.num_rows, schema().field(EXTRA).type)
    return columns


def _numbers(pieces: list[_Piece]) -> pa.Array:
    """The pieces' line numbers: one Arrow addition when they follow each other (as a block's do)."""
    first, count = pieces[0].first, sum(p.table.num_rows for p in pieces)
    if all(a.first + a.table.num_rows == b.first for a, b in itertools.pairwise(pieces)):
        return pc.add(_counting(count), pa.scalar(first, pa.int64()))
    return pa.array([n for p in pieces for n in range(p.first, p.first + p.table.num_rows)], pa.int64())


_COUNTING: list[pa.Array] = [pa.array([], pa.int64())]


def _counting(count: int) -> pa.Array:
    """0, 1, ... ``count - 1`` (int64), from one array kept and grown as batches need."""
    counting = _COUNTING[0]  # (read once: another reading thread may grow it meanwhile)
    if len(counting) < count:
        counting = _COUNTING[0] = pa.array(range(max(count, 2 * len(counting))), pa.int64())
    return counting.slice(0, count)


def _concat(arrays: list[pa.Array | None], lengths: list[int]) -> pa.Array:
    """The parts' arrays end to end; a part without the column (a field) gives nulls."""
    filled = [a if a is not None else pa.nulls(n, pa.string()) for a, n in zip(arrays, lengths, strict=True)]
    return filled[0] if len(filled) == 1 else pa.concat_arrays(filled)
