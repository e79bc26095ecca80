"""``evtx``: Windows event-log files, read with the ``evtx`` package (Rust, streaming).

Only records of provider ``Microsoft-Windows-Sysmon`` become events; the others are counted by
channel. Values are rendered as Windows renders them in event XML: numbers in decimal, booleans
``true``/``false``, and GUIDs in braces and lower case (the parser prints them bare and upper
case). A record the parser cannot read is skipped and named by its position in the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..events import Event, Origin
from .base import Source, as_text

MAGIC = b"ElfFile\x00"
PROVIDER = "Microsoft-Windows-Sysmon"
_BARE_GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
# A parser that keeps failing on one file has lost its place: stop there instead of spinning.
_MAX_FAILURES = 1000


def render(name: str, value: object) -> str:
    """One EventData value as event XML shows it (``name`` tells a GUID field)."""
    text = as_text(value)
    if name[-4:].lower() == "guid" and _BARE_GUID.fullmatch(text):
        return "{" + text.lower() + "}"
    return text


def event_from_json(body: Mapping[str, Any], origin: Origin) -> tuple[Event | None, str]:
    """The Sysmon event in one parsed record, or None and the record's channel."""
    system = body.get("System") or {}
    provider = (system.get("Provider") or {}).get("#attributes", {}).get("Name")
    if provider != PROVIDER:
        return None, as_text(system.get("Channel")) or as_text(provider)
    data = body.get("EventData") or {}
    fields = {k: render(k, v) for k, v in data.items() if not k.startswith("#")} if isinstance(data, dict) else {}
    return Event(int(as_text(system.get("EventID"))), fields, origin), ""


class EvtxCollector:
    """Windows ``.evtx`` files (``wevtutil epl``, the Event Viewer's "Save as", copied logs)."""

    name = "evtx"
    description = "Windows event-log files (.evtx), Sysmon records only"

    def recognizes(self, head: bytes, name: str) -> bool:
        return head.startswith(MAGIC)

    def events(self, source: Source) -> Iterator[Event]:
        from evtx import PyEvtxParser

        stream = source.open() if source.path is None or source.name.endswith(".gz") else None
        parser = PyEvtxParser(stream if stream is not None else str(source.path), number_of_threads=1)
        records = parser.records_json()
        position, failures = 0, 0
        while True:
            position += 1
            try:
                record = next(records)
            except StopIteration:
                return
            except (RuntimeError, OSError, ValueError) as exc:  # the parser reports damage this way
                failures += 1
                source.skip(f"{source.name}#{position}", str(exc).splitlines()[0] if str(exc) else repr(exc))
                if failures >= _MAX_FAILURES:
                    return
                continue
            if record is not None:
                yield from self._event(source, record, position)

    def _event(self, source: Source, record: Mapping[str, Any], position: int) -> Iterator[Event]:
        record_id = record.get("event_record_id")
        origin = Origin(source.name, record=record_id if isinstance(record_id, int) else None)
        try:
            event, channel = event_from_json(json.loads(record["data"])["Event"], origin)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            source.skip(str(origin) if origin.record is not None else f"{source.name}#{position}",
                        f"unreadable record ({type(exc).__name__}: {exc})")
            return
        if event is None:
            source.other(channel)
            return
        yield event
