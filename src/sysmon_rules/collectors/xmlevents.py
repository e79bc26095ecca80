"""``xml``: rendered event XML, one ``<Event>`` element after another, with or without a root.

Covers ``wevtutil qe Microsoft-Windows-Sysmon/Operational /f:xml`` (elements concatenated
without a root), ``evtx_dump -o xml``, Splunk's ``XmlWinEventLog`` and the syslog lines of Sysmon for Linux
(``... sysmon: <Event>...</Event>``). Each element is cut out of the text and parsed on its own
(lxml, no entities, no network), so one damaged record costs only itself: the reader resyncs at
the next ``<Event``. Memory holds one element at a time.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import BinaryIO

from lxml import etree

from ..events import Event, Origin
from .base import SYSMON_PROVIDERS, Source, strip_bom, utf16_encoding
from .evtxvalues import render

_START = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?Event[\s>/]")
_END = re.compile(r"</(?:[A-Za-z_][\w.-]*:)?Event\s*>")
_CHUNK = 1 << 16
# An element bigger than this is not an event record: give up on it rather than buffer forever.
_MAX_EVENT = 16 << 20


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)


def _local(tag: object) -> str:
    text = tag if isinstance(tag, str) else ""
    return text.rpartition("}")[2]


def _decoder(first: bytes) -> codecs.IncrementalDecoder:
    encoding = utf16_encoding(first)
    if encoding is not None:
        return codecs.getincrementaldecoder(encoding)(errors="replace")  # a lone surrogate: U+FFFD
    return codecs.getincrementaldecoder("utf-8-sig")(errors="replace")


def chunks(stream: BinaryIO) -> Iterator[tuple[int, str | None]]:
    """``(line, text)`` for each ``<Event>...</Event>`` in the stream; text None when truncated.

    An open record waiting for more input is searched only in what arrived since the last
    search (less a tag's length), so a long unterminated record costs linear time, not quadratic.
    """
    first = stream.read(_CHUNK)
    decoder = _decoder(first)
    buffer, line, data, scanned = "", 1, first, 1
    while True:
        buffer += decoder.decode(data, final=not data)
        while True:
            start = _START.search(buffer) if scanned == 1 else None
            if scanned == 1:
                if start is None:
                    line += buffer.count("\n", 0, max(0, len(buffer) - 64))
                    buffer = buffer[max(0, len(buffer) - 64):]  # keep a tail: a tag may be cut in two
                    break
                line += buffer.count("\n", 0, start.start())
                buffer = buffer[start.start():]
            end = _END.search(buffer, scanned)
            restart = _START.search(buffer, scanned)
            if restart is not None and (end is None or restart.start() < end.start()):
                yield line, None  # the next record starts before this one ends
                line += buffer.count("\n", 0, restart.start())
                buffer, scanned = buffer[restart.start():], 1
                continue
            if end is None:
                scanned = max(1, len(buffer) - 64)
                if not data or len(buffer) > _MAX_EVENT:
                    yield line, None
                    buffer, scanned = "", 1
                break
            yield line, buffer[:end.end()]
            line += buffer.count("\n", 0, end.end())
            buffer, scanned = buffer[end.end():], 1
        if not data:
            return
        data = stream.read(_CHUNK)


def event_from_element(root: etree._Element, origin_name: str, line: int) -> tuple[Event | None, str]:
    """The Sysmon event in one parsed ``<Event>``, or None and the record's channel/provider."""
    system = next((c for c in root if _local(c.tag) == "System"), None)
    if system is None:
        raise ValueError("no <System> element")
    values = {_local(c.tag): c for c in system}
    provider = values["Provider"].get("Name", "") if "Provider" in values else ""
    if provider not in SYSMON_PROVIDERS:
        channel = values.get("Channel")
        return None, (channel.text or "") if channel is not None else provider
    event_id = int((values["EventID"].text or "").strip())
    record = values.get("EventRecordID")
    record_text = (record.text or "").strip() if record is not None else ""
    record_id = int(record_text) if record_text.isdigit() else None
    data = next((c for c in root if _local(c.tag) == "EventData"), None)
    # evtx_dump's XML (the evtx library's) prints GUIDs bare: rendered as Windows renders them
    fields = {name: render(name, d.text or "") for d in (data if data is not None else ())
              if _local(d.tag) == "Data" and (name := d.get("Name", ""))}
    computer = values.get("Computer")
    host = (computer.text or "").strip() or None if computer is not None else None
    return Event.read(event_id, fields, Origin(origin_name, record=record_id, line=line, computer=host)), ""


class XmlCollector:
    """Rendered event XML: wevtutil /f:xml, Splunk XmlWinEventLog, Sysmon for Linux syslog lines."""

    name = "xml"
    description = "event XML: wevtutil qe /f:xml, Splunk XmlWinEventLog, Sysmon for Linux syslog"

    def recognizes(self, head: bytes, name: str) -> bool:
        text = strip_bom(head)
        return not text.startswith((b"{", b"[")) and _START.search(text.decode("utf-8", "replace")) is not None

    def events(self, source: Source) -> Iterator[Event]:
        parser = _parser()
        with source.open() as stream:
            for line, text in chunks(stream):
                where = f"{source.name}:{line}"
                if text is None:
                    source.skip(where, "an <Event> element without its end")
                    continue
                try:
                    event, channel = event_from_element(etree.fromstring(text, parser), source.name, line)
                except (etree.XMLSyntaxError, ValueError, KeyError) as exc:
                    source.skip(where, str(exc) or type(exc).__name__)
                    continue
                if event is None:
                    source.other(channel)
                else:
                    yield event
