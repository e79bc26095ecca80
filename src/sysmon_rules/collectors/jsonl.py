"""``jsonl``: one JSON object per line, its shape recognised line by line.

Shapes:

- ours: ``{"EventID": 1, "fields": {"Image": "..."}}`` (``event_id`` also accepted);
- Winlogbeat / ECS: ``{"winlog": {"event_id": "1", "provider_name": ..., "event_data": {...}}}``;
- flat EventData keys beside the record's metadata: NXLog ``im_msvistalog`` and OTRF
  Security-Datasets 2020 (``SourceName``, ``RecordNumber``), OTRF 2022 (``EventSourceName``,
  ``EventRecordID``, and ``EventData`` as an XML string, which is used when present). The
  metadata and the event's fields share one namespace there, so only names Sysmon uses for
  that event id (in any schema version) are taken as fields.

Records of other providers are counted, not read; a line that is not a JSON object with an
event id, or is longer than 16 MiB, is a damaged record named by its line number: skipped with a
warning and counted, an error under ``strict``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

import orjson
from lxml import etree

from ..events import EVENT_IDS, Event, Origin
from .base import SYSMON_PROVIDERS, Source, as_text, strip_bom
from .lines import MAX_LINE, blocks, lines

if TYPE_CHECKING:
    import pyarrow as pa

_PROVIDER_KEYS = ("SourceName", "EventSourceName", "Provider", "ProviderName")
_RECORD_KEYS = ("RecordNumber", "EventRecordID", "record_id")
# The logging host: ours and OTRF 2022 say Computer, NXLog and OTRF 2020 Hostname.
_COMPUTER_KEYS = ("Computer", "Hostname")
# A line with only these keys, an int EventID and an object "fields", takes the batch fast path.
_CANONICAL_KEYS = frozenset({"EventID", "fields", "record", "Computer"})
# NXLog's own EventType (the record's level) shares its name with Sysmon's registry/WMI field.
_NXLOG_EVENT_TYPES = frozenset({"INFO", "WARNING", "ERROR", "CRITICAL", "VERBOSE", "AUDIT_SUCCESS", "AUDIT_FAILURE"})


@cache
def sysmon_fields(event_id: int) -> frozenset[str]:
    """Every EventData name Sysmon has used for this event id, in any schema version."""
    from ..schema import all_versions

    names: set[str] = set()
    for version in all_versions():
        event_type = version.events_by_id.get(event_id)
        if event_type is not None:
            names.update(event_type.field_names)
    return frozenset(names)


def _int(value: object) -> int | None:
    text = as_text(value).strip()
    # isdigit() also accepts "²" or "٣", which int() refuses or reads as another number.
    return int(text) if text.isascii() and text.isdigit() else None


def _record(value: object, key: str) -> int | None:
    """A record id (what its int64 column holds), None when there is none; a larger one is damage."""
    record = _int(value)
    if record is not None and record >= 1 << 63:
        raise ValueError(f'"{key}" {record} is too large for a record id')
    return record


def _event_id(value: int, key: str) -> int:
    """``value`` when it is an event id; else the record is damaged (it would fit no column)."""
    if value not in EVENT_IDS:
        raise ValueError(f'"{key}" {value} is outside 0-65535, the range of event ids')
    return value


def _object(value: object, name: str) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, {} when absent; anything else is a damaged record."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f'"{name}" must be an object, got {type(value).__name__}')
    return value


def _strings(data: object, name: str) -> dict[str, str]:
    return {str(k): as_text(v) for k, v in _object(data, name).items() if not isinstance(v, list | dict)}


def _event_data_xml(text: str) -> dict[str, str]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(text.encode("utf-8"), parser)
    return {d.get("Name", ""): d.text or "" for d in root if str(d.tag).endswith("Data") and d.get("Name")}


def parse_object(obj: Mapping[str, Any]) -> tuple[int, dict[str, str], str | None, int | None]:
    """``(event id, fields, provider or None, record id)`` of one line's object, whatever its shape."""
    if "fields" in obj:
        return _canonical(obj)
    winlog = obj.get("winlog")
    if isinstance(winlog, dict):
        raw_id = winlog["event_id"] if "event_id" in winlog else _object(obj.get("event"), "event").get("code")
        event_id = _int(raw_id)
        if event_id is None:
            raise ValueError('"winlog.event_id" is not a number')
        return (_event_id(event_id, "winlog.event_id"), _strings(winlog.get("event_data"), "winlog.event_data"),
                as_text(winlog.get("provider_name")) or None, _record(winlog.get("record_id"), "winlog.record_id"))
    return _flat(obj)


def _canonical(obj: Mapping[str, Any]) -> tuple[int, dict[str, str], str | None, int | None]:
    """Ours is written by tools, so it is read strictly: an integer id and an object of strings."""
    event_id = obj.get("EventID", obj.get("event_id"))
    if isinstance(event_id, str) and event_id.isascii() and event_id.isdigit():
        event_id = int(event_id)
    if not isinstance(event_id, int) or isinstance(event_id, bool):
        raise ValueError(f'"EventID" must be an integer, got {event_id!r}')
    _event_id(event_id, "EventID")
    fields = obj["fields"]
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise ValueError('"fields" must be an object of strings')
    return event_id, fields, None, _record(obj.get("record"), "record")


def _flat(obj: Mapping[str, Any]) -> tuple[int, dict[str, str], str | None, int | None]:
    event_id = _int(obj.get("EventID"))
    if event_id is None:
        raise ValueError('no "EventID", "fields" or "winlog" in this object')
    _event_id(event_id, "EventID")
    provider = next((as_text(obj[k]) for k in _PROVIDER_KEYS if k in obj), None)
    record = next((_record(obj[k], k) for k in _RECORD_KEYS if k in obj), None)
    embedded = obj.get("EventData")
    if isinstance(embedded, str) and embedded.lstrip().startswith("<"):
        return event_id, _event_data_xml(embedded), provider, record
    if embedded is not None and not isinstance(embedded, str):
        return event_id, _strings(embedded, "EventData"), provider, record
    names = sysmon_fields(event_id)
    fields = {k: as_text(v) for k, v in obj.items() if k in names and not isinstance(v, list | dict)}
    if fields.get("EventType") in _NXLOG_EVENT_TYPES:
        del fields["EventType"]
    return event_id, fields, provider, record


def computer_of(obj: Mapping[str, Any]) -> str | None:
    """The host that logged the record (``<System><Computer>``), whatever the shape, or None."""
    winlog = obj.get("winlog")
    if isinstance(winlog, dict) and winlog.get("computer_name"):
        return as_text(winlog["computer_name"])
    host = obj.get("host")
    if isinstance(host, dict) and (host.get("name") or host.get("hostname")):
        return as_text(host.get("name") or host.get("hostname"))
    found = next((obj[k] for k in _COMPUTER_KEYS if obj.get(k) and not isinstance(obj[k], list | dict)), None)
    return as_text(found) if found is not None else None


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
    """JSON lines: our canonical events, Winlogbeat/ECS documents, NXLog and OTRF flat records."""

    name = "jsonl"
    description = "JSON lines: canonical {EventID, fields}, Winlogbeat/ECS, NXLog, OTRF Security-Datasets"

    def recognizes(self, head: bytes, name: str) -> bool:
        return strip_bom(head).startswith(b"{")

    def events(self, source: Source) -> Iterator[Event]:
        with source.open() as stream:
            for number, raw in lines(stream):
                if raw is None:
                    source.skip(f"{source.name}:{number}", f"line longer than {MAX_LINE >> 20} MiB")
                    continue
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8", "replace").strip()
                if not line:
                    continue
                event = self._line(source, number, line)
                if event is not None:
                    yield event

    def batches(self, source: Source, rows: int | None = None) -> Iterator[pa.RecordBatch]:
        """The events of :meth:`events` as record batches, same order, same counts and errors.

        Canonical lines go to Arrow without an Event object, a block of them at a time through
        Arrow's JSON reader where that reads them exactly (``jsonl_batches``); every other line
        (other shapes, damage, a BOM, invalid UTF-8) takes the path of :meth:`events`.
        """
        from .arrow import field_names
        from .jsonl_batches import BATCH_ROWS, BLOCK_BYTES, Batcher, parsed

        batcher = Batcher(source, rows or BATCH_ROWS, _canonical_fast,
                          lambda number, raw: self._raw_line(source, number, raw))
        # Only the fields the reader will look at, where the lines allow it (``Source.columns``).
        names = None if source.columns is None else tuple(n for n in field_names() if n in source.columns)
        with source.open() as stream:
            for block, table in parsed(blocks(stream, BLOCK_BYTES), names=names):
                if block.data is None:
                    source.skip(f"{source.name}:{block.first}", f"line longer than {MAX_LINE >> 20} MiB")
                else:
                    yield from batcher.block(block, table)
        if batcher:
            yield batcher.flush()

    def _raw_line(self, source: Source, number: int, raw: bytes) -> Event | None:
        line = raw.decode("utf-8-sig" if number == 1 else "utf-8", "replace").strip()
        return self._line(source, number, line) if line else None

    def _line(self, source: Source, number: int, line: str) -> Event | None:
        where = f"{source.name}:{number}"
        try:
            obj = _loads(line)
            if not isinstance(obj, dict):
                raise ValueError("expected a JSON object")
            event_id, fields, provider, record = parse_object(obj)
        except json.JSONDecodeError as exc:
            source.skip(where, f"not JSON ({exc.msg} at column {exc.colno})")
            return None
        except RecursionError:
            source.skip(where, "JSON nested too deeply")
            return None
        except (ValueError, etree.XMLSyntaxError) as exc:
            source.skip(where, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return None
        if provider is not None and provider not in SYSMON_PROVIDERS:
            winlog = obj.get("winlog")
            channel = obj.get("Channel") or (winlog.get("channel") if isinstance(winlog, dict) else None)
            source.other(as_text(channel or provider))
            return None
        return Event(event_id, fields, Origin(source.name, record=record, line=number, computer=computer_of(obj)))
