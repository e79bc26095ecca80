"""``evtx``: Windows event-log files, read with the ``evtx`` package (Rust, streaming).

Only records of provider ``Microsoft-Windows-Sysmon`` become events; the others are counted by
channel. Values are rendered as Windows renders them in event XML: numbers in decimal, booleans
``true``/``false``, and GUIDs in braces and lower case (the parser prints them bare and upper
case). A record the parser cannot read is skipped and named by its position in the file.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from ..events import Event, Origin
from .base import Source, as_text

MAGIC = b"ElfFile\x00"
PROVIDER = "Microsoft-Windows-Sysmon"
_BARE_GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_GUID_SUFFIXES = frozenset({"Guid", "GUID", "guid"})
# A parser that keeps failing on one file has lost its place: stop there instead of spinning.
_MAX_FAILURES = 1000


def render(name: str, value: object) -> str:
    """One EventData value as event XML shows it (``name`` tells a GUID field)."""
    text = as_text(value)
    if name[-4:] in _GUID_SUFFIXES and _BARE_GUID.fullmatch(text):
        return "{" + text.lower() + "}"
    return text


def event_from_json(body: Mapping[str, Any], origin: Origin) -> tuple[Event | None, str]:
    """The Sysmon event in one parsed record, or None and the record's channel."""
    system = body.get("System") or {}
    provider = (system.get("Provider") or {}).get("#attributes", {}).get("Name")
    if provider != PROVIDER:
        return None, as_text(system.get("Channel")) or as_text(provider)
    data = body.get("EventData") or {}
    computer = system.get("Computer")
    if computer is not None:
        origin = Origin(origin.source, origin.record, origin.line, as_text(computer))
    return Event(int(as_text(system.get("EventID"))), _fields(data) if isinstance(data, dict) else {}, origin), ""


def _fields(data: Mapping[str, Any]) -> dict[str, str]:
    """``render`` over EventData, with the common case (a plain string, not a GUID) inlined: hot loop."""
    fields: dict[str, str] = {}
    for name, value in data.items():
        if name[:1] == "#":  # the element's own attributes, not a field
            continue
        kind = type(value)
        if kind is str and name[-4:] not in _GUID_SUFFIXES:
            fields[name] = value
        elif kind is int:  # ids, ports, pids: decimal, as as_text renders them (never a GUID)
            fields[name] = str(value)
        else:
            fields[name] = render(name, value)
    return fields


class EvtxCollector:
    """Windows ``.evtx`` files (``wevtutil epl``, the Event Viewer's "Save as", copied logs)."""

    name = "evtx"
    description = "Windows event-log files (.evtx), Sysmon records only"

    def recognizes(self, head: bytes, name: str) -> bool:
        return head.startswith(MAGIC)

    def events(self, source: Source) -> Iterator[Event]:
        from evtx import PyEvtxParser

        with source.open() as stream:
            # A plain file is handed over by path (the parser maps it); stdin and gzip as a stream.
            plain = source.path is not None and source.opener is None and not isinstance(stream, gzip.GzipFile)
            try:
                parser = PyEvtxParser(str(source.path) if plain else stream, number_of_threads=1)
            except (RuntimeError, OSError, ValueError) as exc:  # cut inside its 4 KiB header, or not EVTX
                source.skip(source.name, f"not an EVTX file, or its header is damaged ({_first_line(exc)})")
                return
            yield from self._records(source, parser.records_json())

    def _records(self, source: Source, records: Iterator[Any]) -> Iterator[Event]:
        position, failures = 0, 0
        while True:
            position += 1
            try:
                record = next(records)
            except StopIteration:
                return
            except (RuntimeError, OSError, ValueError) as exc:  # the parser reports damage this way
                failures += 1
                source.skip(f"{source.name}#{position}", _first_line(exc))
                if failures >= _MAX_FAILURES:
                    return
                continue
            if record is not None:
                yield from self._event(source, record, position)

    def _event(self, source: Source, record: Mapping[str, Any], position: int) -> Iterator[Event]:
        record_id = record.get("event_record_id")
        origin = Origin(source.name, record=record_id if isinstance(record_id, int) else None)
        try:
            event, channel = event_from_json(orjson.loads(record["data"])["Event"], origin)
        except (KeyError, ValueError, TypeError, AttributeError, orjson.JSONDecodeError) as exc:
            source.skip(str(origin) if origin.record is not None else f"{source.name}#{position}",
                        f"unreadable record ({type(exc).__name__}: {exc})")
            return
        if event is None:
            source.other(channel)
            return
        yield event


def _first_line(exc: BaseException) -> str:
    """The parser's message without its multi-line detail (a hex dump, a backtrace)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
