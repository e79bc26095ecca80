"""``evtx``: Windows event-log files, read with the ``evtx`` package (Rust, streaming).

Only records of provider ``Microsoft-Windows-Sysmon`` become events; the others are counted by
channel. Values are rendered as Windows renders them in event XML: numbers in decimal, booleans
``true``/``false``, and GUIDs in braces and lower case (the parser prints them bare and upper
case). A record the parser cannot read is skipped and named by its position in the file.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from itertools import islice
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, cast

from ..events import EVENT_IDS, Event, Origin
from .base import Source, as_text, known_columns
from .evtxlayout import FILE_HEADER, MAX_CHUNK_RECORDS, Lost, lost
from .evtxvalues import fields_of

if TYPE_CHECKING:
    import msgspec

    from .evtxcolumns import EvtxRows

MAGIC = b"ElfFile\x00"
PROVIDER = "Microsoft-Windows-Sysmon"


@cache
def _system_shape() -> type[msgspec.Struct]:
    """The usual record's System element, for a decoder that builds only what a row needs: its
    other parts (time, execution, security: two thirds of the objects in a record) are checked
    as JSON and skipped. A record of any other shape fails to decode and takes the exact path,
    which decodes the whole record with the same decoder library, so both agree on every value.
    Decoded data holds no cycle: its structs are left out of the garbage collector's passes
    (``gc=False``), which otherwise walk them, and everything a replay holds, many times a
    batch. (Built on first use: reading JSON lines never imports msgspec.)"""
    import msgspec

    named = msgspec.defstruct("_Named", [("Name", str)], gc=False)
    provider = msgspec.defstruct("_Provider", [("attributes", named)], rename={"attributes": "#attributes"}, gc=False)
    event_id = Annotated[int, msgspec.Meta(ge=0, le=EVENT_IDS[-1])]  # never a bool, a float, out of range
    return msgspec.defstruct("_System", [("Provider", provider), ("EventID", event_id),
                                         ("Computer", str | None, None), ("Channel", Any, None)], gc=False)


@cache
def _decoder(columns: frozenset[str] | None) -> msgspec.json.Decoder[Any]:
    """The usual record's decoder: with ``columns``, only the EventData fields read are built (as
    ``evtxcolumns.projected``, an absent EventData as one with no field; a JSON null in one of
    them, or as EventData, takes the exact path too)."""
    import msgspec

    data: tuple[str, Any, Any] = ("EventData", Any, None)
    if columns is not None:
        from .evtxcolumns import projected

        kind = projected(columns)
        data = ("EventData", kind, msgspec.field(default_factory=kind))
    body = msgspec.defstruct("_Body", [("System", _system_shape()), data], gc=False)
    return msgspec.json.Decoder(msgspec.defstruct("_Usual", [("Event", body)], gc=False))


@cache
def _json() -> msgspec.json.Decoder[Any]:
    """The exact path's decoder: any JSON."""
    import msgspec

    return msgspec.json.Decoder()


# What a record's text or shape may raise (msgspec.DecodeError is a ValueError; nesting beyond
# the decoder's depth, a RecursionError): the record is skipped as damaged.
_UNREADABLE = (KeyError, ValueError, TypeError, AttributeError, RecursionError)
# A parser that keeps failing on one file has lost its place: stop there instead of spinning.
_MAX_FAILURES = 1000
# Record ids count from 1: one beyond a signed 64-bit integer (what Arrow and Parquet hold) is a
# damaged record header.
MAX_RECORD_ID = 2**63 - 1


def event_from_json(body: Mapping[str, Any], origin: Origin) -> tuple[Event | None, str]:
    """The Sysmon event in one parsed record, or None and the record's channel."""
    system, provider = _system(body)
    if provider != PROVIDER:
        return None, _channel(system, provider)
    data = body.get("EventData") or {}
    computer = system.get("Computer")
    if computer is not None:
        origin = Origin(origin.source, origin.record, origin.line, as_text(computer))
    return Event.read(int(as_text(system.get("EventID"))), fields_of(data) if isinstance(data, dict) else {},
                      origin), ""


def _system(body: Mapping[str, Any]) -> tuple[Mapping[str, Any], object]:
    """The record's System element and its provider's name (raising as the record's shape dictates)."""
    system = body.get("System") or {}
    return system, (system.get("Provider") or {}).get("#attributes", {}).get("Name")


def _channel(system: Mapping[str, Any], provider: object) -> str:
    return as_text(system.get("Channel")) or as_text(provider)


class EvtxCollector:
    """Windows ``.evtx`` files (``wevtutil epl``, the Event Viewer's "Save as", copied logs)."""

    name = "evtx"
    description = "Windows event-log files (.evtx), Sysmon records only"

    def recognizes(self, head: bytes, name: str) -> bool:
        return head.startswith(MAGIC)

    def events(self, source: Source) -> Iterator[Event]:
        return cast("Iterator[Event]", self._read(source, rows=False))

    def gather(self, source: Source) -> Iterator[Event | EvtxRows]:
        """:meth:`events`, with the Sysmon records of the usual shape left as ``EvtxRows``:
        ``EventStream.batches`` turns the rows of many files into one batch at a time."""
        return self._read(source, rows=True)

    def _read(self, source: Source, rows: bool) -> Iterator[Event | EvtxRows]:
        from evtx import PyEvtxParser

        with source.open() as stream:
            # A plain file is handed over by path (the parser maps it); stdin, gzip and a name
            # that is not UTF-8 (the parser would look for another file) as a stream.
            plain = (source.path is not None and source.opener is None and not isinstance(stream, gzip.GzipFile)
                     and _utf8(str(source.path)))
            try:
                parser = PyEvtxParser(str(source.path) if plain else stream, number_of_threads=1)
            except (RuntimeError, OSError, ValueError) as exc:  # cut inside its 4 KiB header, or not EVTX
                source.skip(source.name, f"not an EVTX file, or its header is damaged ({_first_line(exc)})")
                return
            seen = _Seen()
            yield from self._records(source, parser.records_json(), rows, seen)
            _report_cut(source, stream, plain, seen)

    def _records(self, source: Source, records: Iterator[Any], rows: bool, seen: _Seen) -> Iterator[Event | EvtxRows]:
        """The items of every record the parser gives, in order. Records are taken a chunk at a
        time by one C loop (the records before a parser error are kept, the error is counted in
        its place, and the parser goes on after it)."""
        position, failures = 0, 0
        columns = known_columns(source) if rows else None
        while True:
            chunk: list[Any] = []
            failed: BaseException | None = None
            try:
                chunk.extend(islice(records, _CHUNK))
            except (RuntimeError, OSError, ValueError) as exc:  # the parser reports damage this way
                failed = exc
            if chunk:
                yield from self._rows(source, chunk, position, seen, columns) if rows else \
                    self._exactly(source, chunk, position, seen, False)
            position += len(chunk)
            if failed is None:
                if len(chunk) < _CHUNK:
                    return
                continue
            position += 1
            failures += 1
            source.skip(f"{source.name}#{position}", _first_line(failed))
            if failures >= _MAX_FAILURES:
                return

    def _rows(self, source: Source, chunk: list[Any], position: int, seen: _Seen,
              columns: frozenset[str] | None) -> Iterator[Event | EvtxRows]:
        """The hot path (about a microsecond of Python a record; the parser's own cost is about
        five): a chunk's records decoded by the typed decoder in one C loop, and each run of
        usual Sysmon records between the others given as one ``EvtxRows``. A record of another
        shape or damaged takes the exact path in its place; so does a whole chunk whose record
        ids are not all plain."""
        try:
            ids = tuple(map(_RECORD_ID, chunk))
            texts = list(map(_DATA, chunk))
            plain = set(map(type, ids)) == {int} and max(ids) <= MAX_RECORD_ID
        except (KeyError, TypeError):  # not a dict, no id, no text
            plain = False
        if not plain:
            yield from self._exactly(source, chunk, position, seen, True)
            return
        seen.add(ids)
        decoded: list[Any] = []
        odd: list[int] = []
        texts_left, usual = iter(texts), _decoder(columns).decode
        while True:
            try:
                decoded.extend(map(usual, texts_left))
                break
            except Exception:  # another shape, or damage: the exact path says what
                odd.append(len(decoded))
                decoded.append(None)
        start = 0
        for stop in (*odd, len(decoded)):
            if stop > start:
                block = _block(source, decoded[start:stop], ids[start:stop], columns)
                if block is not None:
                    yield block
            if stop < len(decoded):
                try:  # decoded in this frame, as by the typed decoder above: on as deep a stack
                    exact: Any = _json().decode(chunk[stop]["data"])
                except _UNREADABLE as exc:
                    exact = exc
                item = self._item(source, chunk[stop], exact, position + stop + 1, True)
                if item is not None:
                    yield item
            start = stop + 1

    def _exactly(self, source: Source, chunk: list[Any], position: int, seen: _Seen,
                 rows: bool) -> Iterator[Event | EvtxRows]:
        """Each record of ``chunk`` by the exact path."""
        for offset, record in enumerate(chunk, 1):
            if record is None:
                continue
            record_id = record.get("event_record_id")
            if type(record_id) is int:
                if record_id > MAX_RECORD_ID:
                    source.skip(f"{source.name}#{position + offset}", _bad_id(record_id))
                    continue
                seen.add((record_id,))
            try:  # decoded in a frame as deep as the typed decoder's (in _rows): on as deep a stack
                decoded: Any = _json().decode(record["data"])
            except _UNREADABLE as exc:
                decoded = exc
            item = self._item(source, record, decoded, position + offset, rows)
            if item is not None:
                yield item

    def _item(self, source: Source, record: Mapping[str, Any], decoded: Any, position: int,
              rows: bool) -> Event | EvtxRows | None:
        """The record's event or row (``decoded``: its JSON text decoded, or why not), or None."""
        record_id = record.get("event_record_id")
        if not isinstance(record_id, int):
            record_id = None
        try:
            if isinstance(decoded, BaseException):
                raise decoded
            body = decoded["Event"]
            row = _row(body, record_id, source.name, known_columns(source)) if rows else None
            if row is not None:
                return row
            event, channel = event_from_json(body, Origin(source.name, record=record_id))
        except _UNREADABLE as exc:
            where = str(Origin(source.name, record=record_id)) if record_id is not None else f"{source.name}#{position}"
            source.skip(where, f"unreadable record ({type(exc).__name__}: {exc})")
            return None
        if event is None:
            source.other(channel)
        return event


# A record's parts, as the typed decoder gives them: taken for all of a block's records at once,
# each part in a tuple of its own, which the garbage collector stops tracking (a tuple per
# record, or a list, would be more objects for it to walk until the batch is made).
_BODY, _SYSTEM, _DATA_OF = attrgetter("Event"), attrgetter("System"), attrgetter("EventData")
_NAME, _EVENT_ID, _COMPUTER = attrgetter("Provider.attributes.Name"), attrgetter("EventID"), attrgetter("Computer")
_RECORD_ID, _DATA = itemgetter("event_record_id"), itemgetter("data")
# Records taken from the parser at once: their text is a megabyte or two.
_CHUNK = 512


def _block(source: Source, decoded: list[Any], ids: Sequence[int], columns: frozenset[str] | None) -> EvtxRows | None:
    """Records of the usual shape as one ``EvtxRows``; those of other providers counted and left out."""
    from .evtxcolumns import EvtxRows

    bodies = tuple(map(_BODY, decoded))
    systems = tuple(map(_SYSTEM, bodies))
    names, event_ids, computers = (tuple(map(part, systems)) for part in (_NAME, _EVENT_ID, _COMPUTER))
    datas = tuple(map(_DATA_OF, bodies))
    if names.count(PROVIDER) != len(names):
        keep = []
        for index, name in enumerate(names):
            if name == PROVIDER:
                keep.append(index)
            else:
                source.other(as_text(decoded[index].Event.System.Channel) or name)
        if not keep:
            return None
        ids, event_ids, computers, datas = (tuple(part[i] for i in keep) for part in (ids, event_ids, computers, datas))
    if columns is None:  # EventData as parsed: an object with fields, else none
        return EvtxRows(source.name, event_ids, [data if type(data) is dict and data else None for data in datas],
                        ids, computers)
    return EvtxRows(source.name, event_ids, datas, ids, computers, columns)


class _Seen:
    """The record ids the parser gave: the highest, and the last chunk's worth (what a cut chunk
    may have given before the cut), in bounded memory."""

    def __init__(self) -> None:
        self.last: deque[int] = deque(maxlen=MAX_CHUNK_RECORDS)
        self.highest: int | None = None

    def add(self, ids: Sequence[int]) -> None:
        self.last.extend(ids)
        top = max(ids)
        if self.highest is None or top > self.highest:
            self.highest = top


def _report_cut(source: Source, stream: BinaryIO, plain: bool, seen: _Seen) -> None:
    """Count what a file cut short lost (``evtxlayout``); a stream that cannot be measured (it
    cannot seek, or it is damaged: reported as such) is left as read."""
    try:
        if stream.seekable():  # a plain file's own handle (the parser read it by path), or a seekable stream
            found = _lost(stream, seen)
        elif plain:
            assert source.path is not None
            with source.path.open("rb") as whole:
                found = _lost(whole, seen)
        else:
            return
    except (OSError, EOFError, ValueError, zlib.error):
        return
    for cut in found:
        source.skip(source.name, cut.reason, cut.records)


def _lost(stream: BinaryIO, seen: _Seen) -> list[Lost]:
    size = stream.seek(0, io.SEEK_END)

    def read_at(offset: int, count: int) -> bytes:
        stream.seek(offset)
        return stream.read(count)

    return lost(read_at(0, FILE_HEADER), size, read_at, seen.last, seen.highest)


def _row(body: Mapping[str, Any], record: int | None, name: str,
         columns: frozenset[str] | None = None) -> EvtxRows | None:
    """The record as one ``EvtxRows`` when it is a Sysmon event of the usual shape, else None
    (``event_from_json`` then reads it, or names its channel; a record of another shape fails
    in ``_system`` as it fails there)."""
    from .evtxcolumns import EvtxRows, as_projected

    system, provider = _system(body)
    if provider != PROVIDER:
        return None
    event_id, computer = system.get("EventID"), system.get("Computer")
    if type(event_id) is not int or event_id not in EVENT_IDS or not (computer is None or type(computer) is str):
        return None  # the event path says what is wrong
    data = body.get("EventData")
    data = data if isinstance(data, dict) and data else None
    if columns is None:
        return EvtxRows(name, (event_id,), (data,), (record,), (computer,))
    return EvtxRows(name, (event_id,), (as_projected(data, columns),), (record,), (computer,), columns)


def _bad_id(record_id: int) -> str:
    return f"record id {record_id} is out of range (a damaged record header)"


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _first_line(exc: BaseException) -> str:
    """The parser's message without its multi-line detail (a hex dump, a backtrace)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
