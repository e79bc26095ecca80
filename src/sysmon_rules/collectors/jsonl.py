"""``jsonl``: event JSON as tools write it, one record per line or pretty-printed.

Each line is a JSON value; a value written over many lines (``json.dumps(indent=2)``, ``jq``,
``evtx_dump -o json``, SigmaHQ's ``regression_data/*.json``, PowerShell's ``ConvertTo-Json``)
starts with a line that is only ``{`` or ``[`` and ends at the next line that starts with ``}``
or ``]`` (what those printers write). An array, Splunk's ``results`` and Elasticsearch hits hold
many records; ``evtx_dump``'s ``Record N`` lines between values are passed over. Which shape a
record has is told by its keys (``jsonshapes``): ours, the ``evtx`` library's, Winlogbeat/ECS,
Splunk's export, NXLog and OTRF flat records.

Records of other providers are counted, not read; a value that is not a record of a known shape,
or is longer than 16 MiB, is a damaged record named by its (first) line number: skipped with a
warning and counted, an error under ``strict``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

import orjson
from lxml import etree

from ..events import EVENT_IDS, Event, Origin
from .base import LateColumns, Source, as_utf8, strip_bom
from .jsonshapes import event_of, records_of
from .lines import MAX_LINE, chunks, lines

if TYPE_CHECKING:
    import pyarrow as pa

# A line with only these keys, an int EventID and an object "fields", takes the batch fast path.
_CANONICAL_KEYS = frozenset({"EventID", "fields", "record", "Computer"})
# evtx_dump writes "Record 12" before each record it prints.
_RECORD_LINE = re.compile(r"Record \d+")
_RECORD_HEAD = re.compile(rb"Record \d+\r?\n\s*[{\[]")


def _loads(text: str) -> Any:
    """orjson, and the standard parser for what orjson refuses but Python reads (lone surrogates,
    integers beyond 64 bits), so the fast parser never changes what a line means."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _canonical_fast(raw: bytes) -> dict[str, Any] | None:
    """The object of a canonical line that needs no other check than Arrow's, or None."""
    if not raw.startswith(b"{"):
        return None
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(obj) is not dict or not _CANONICAL_KEYS.issuperset(obj) or type(obj.get("EventID")) is not int \
            or obj["EventID"] not in EVENT_IDS:
        return None
    record, computer, fields = obj.get("record"), obj.get("Computer"), obj.get("fields")
    # Arrow turns a null into a missing field; the strict reader rejects it: leave it to that one.
    if type(fields) is not dict or None in fields.values() or not (record is None or (type(record) is int
                                                                                        and 0 <= record < 1 << 63)):
        return None
    return obj if computer is None or (type(computer) is str and computer) else None


class JsonlCollector:
    """Event JSON: ours, the evtx library's, Winlogbeat/ECS, Splunk, NXLog and OTRF records."""

    name = "jsonl"
    description = ("event JSON, one per line or pretty-printed: canonical {EventID, fields}, evtx_dump/SigmaHQ "
                   "{Event: {System, EventData}}, Winlogbeat/ECS, Splunk export, NXLog, OTRF Security-Datasets")

    def recognizes(self, head: bytes, name: str) -> bool:
        text = strip_bom(head)
        if text.startswith(b"["):
            return text[1:].lstrip().startswith((b"{", b"]"))
        return text.startswith(b"{") or _RECORD_HEAD.match(text) is not None

    def events(self, source: Source) -> Iterator[Event]:
        reader = _Reader(source)
        with as_utf8(source.open()) as stream:
            for number, raw in lines(stream):
                yield from reader.line(number, raw)
        reader.end()

    def batches(self, source: Source, rows: int | None = None) -> Iterator[pa.RecordBatch]:
        """The events of :meth:`events` as record batches, same order, same counts and errors.

        Canonical lines go to Arrow without an Event object, a block of them at a time through
        Arrow's JSON reader where that reads them exactly (``jsonl_batches``); every other line
        (other shapes, pretty-printed values, damage, a BOM, invalid UTF-8) takes the path of
        :meth:`events`.
        """
        from .jsonl_batches import BATCH_ROWS, BLOCK_BYTES, Batcher, parsed

        reader = _Reader(source)
        # Inside a value written over many lines no line is read on its own: not even the fast test's.
        batcher = Batcher(source, rows or BATCH_ROWS, lambda raw: None if reader.open else _canonical_fast(raw),
                          reader.line, lambda: reader.open)
        with as_utf8(source.open()) as stream:
            for block, table in parsed(chunks(stream, BLOCK_BYTES), names=_Projection(source.columns)):
                yield from batcher.block(block, table)
        reader.end()
        if batcher:
            yield batcher.flush()


class _Projection:
    """The fields a block's reading keeps (``parse_block``'s names; None: all): only those the
    reader of the batches will look at (``Source.columns``). Asked block by block: columns told
    late (``LateColumns``) are waited for by the blocks' parsing, not by the reading of blocks."""

    def __init__(self, columns: frozenset[str] | LateColumns | None) -> None:
        self._columns = columns
        self._names: tuple[str, ...] | None = None

    def __call__(self) -> tuple[str, ...] | Callable[[], tuple[str, ...] | None] | None:
        columns = self._columns
        if isinstance(columns, LateColumns):
            if not columns.told:
                return partial(self._waited, columns)
            columns = columns.names
        return self._of(columns)

    def _waited(self, late: LateColumns) -> tuple[str, ...] | None:
        return self._of(late.wait())

    def _of(self, columns: frozenset[str] | None) -> tuple[str, ...] | None:
        if columns is None:
            return None
        if self._names is None:  # the same columns for every block, once told
            from .arrow import field_names

            self._names = tuple(n for n in field_names() if n in columns)
        return self._names


class _Reader:
    """The events of one input's lines, fed in order; a value over many lines is gathered first."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._held: list[str] | None = None  # the lines of an open value (None: no value is open)
        self._first = 0  # its first line
        self._size = 0
        self._closer = "}"

    @property
    def open(self) -> bool:
        return self._held is not None

    def line(self, number: int, raw: bytes | None) -> list[Event]:
        """The events that line ``number`` completes (None: a line over the limit)."""
        if raw is None:
            if self._held is not None:
                return self._lost(f"its line {number} is longer than {MAX_LINE >> 20} MiB")
            self.source.skip(f"{self.source.name}:{number}", f"line longer than {MAX_LINE >> 20} MiB")
            return []
        text = raw.decode("utf-8-sig" if number == 1 else "utf-8", "replace")
        if self._held is not None:
            if text.startswith(self._closer):
                return self._close(text)
            if text.startswith(("{", "[")):  # a new value at the margin: the open one has no end
                events = self._lost("it has no end")
                return events + self.line(number, raw)
            self._size += len(raw)
            if self._size > MAX_LINE:
                return self._lost(f"it is longer than {MAX_LINE >> 20} MiB")
            self._held.append(text)
            return []
        line = text.strip()
        if not line or _RECORD_LINE.fullmatch(line):
            return []
        if line in ("{", "["):  # a value printed over many lines starts here
            self._held, self._first, self._size, self._closer = [line], number, len(raw), "}" if line == "{" else "]"
            return []
        return self._value(number, line)

    def end(self) -> None:
        """The input ended: a value still open is a damaged record."""
        if self._held is not None:
            self._lost("it has no end")

    def _close(self, text: str) -> list[Event]:
        assert self._held is not None
        self._held.append(text)
        value, first = "".join(self._held), self._first
        self._held = None
        return self._value(first, value)

    def _lost(self, why: str) -> list[Event]:
        self.source.skip(f"{self.source.name}:{self._first}", f"a JSON value over many lines, but {why}")
        self._held = None
        return []

    def _value(self, number: int, text: str) -> list[Event]:
        """The events of one JSON value (a line, or the lines of one value) starting at line ``number``."""
        where = f"{self.source.name}:{number}"
        try:
            value = _loads(text)
        except json.JSONDecodeError as exc:
            # json's "Unterminated string starting at" already ends in "at"
            what = exc.msg.removesuffix(" at")
            self.source.skip(where, f"not JSON ({what} at line {exc.lineno - 1 + number}, column {exc.colno})"
                             if exc.lineno > 1 else f"not JSON ({what} at column {exc.colno})")
            return []
        except RecursionError:
            self.source.skip(where, "JSON nested too deeply")
            return []
        events = []
        origin = Origin(self.source.name, line=number)
        for record in records_of(value):
            try:
                event, channel = event_of(record, origin)
            except RecursionError:
                self.source.skip(where, "JSON nested too deeply")
                continue
            except (ValueError, KeyError, TypeError, AttributeError, etree.XMLSyntaxError) as exc:
                self.source.skip(where, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                continue
            if event is None:
                self.source.other(channel)
            else:
                events.append(event)
        return events
