"""The shapes of event JSON that tools write, each read into the event it holds.

One JSON object is one record; what its keys are tells its shape:

- ours: ``{"EventID": 1, "fields": {"Image": "..."}}`` (``event_id`` also accepted), read strictly;
- the ``evtx`` library's (``evtx_dump -o json|jsonl``, pyevtx-rs ``records_json``, SigmaHQ's
  ``regression_data/*.json``): ``{"Event": {"System": {...}, "EventData": {...}}}``, its values
  rendered as the EVTX collector renders them (``evtxvalues``);
- Winlogbeat / Elastic ECS: ``{"winlog": {"event_id": "1", "provider_name": ..., "event_data":
  {...}}}``, also inside an Elasticsearch hit (``{"_source": {...}}``);
- Splunk's JSON export (``{"preview": false, "result": {...}}`` per line, or the REST
  ``{"results": [...]}``): the ``_raw`` event XML of ``XmlWinEventLog`` when the result holds it,
  else the extracted fields as a flat record, else the classic ``WinEventLog`` ``_raw`` text
  (its rendered ``Message``'s ``Name: value`` lines);
- flat EventData keys beside the record's metadata: NXLog ``im_msvistalog`` and OTRF
  Security-Datasets 2020 (``SourceName``, ``RecordNumber``), OTRF 2022 (``EventSourceName``,
  ``EventRecordID``, and ``EventData`` as an XML string, which is used when present), Splunk's
  classic ``WinEventLog`` fields (``EventCode``). The metadata and the event's fields share one
  namespace there, so only names Sysmon uses for that event id (in any schema version) are taken.

A record that fits none, or whose parts have the wrong types, raises ``ValueError`` (a damaged
record to the collector); a record of another provider gives no event and its channel.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from lxml import etree

from ..events import EVENT_IDS, Event, Origin
from ..schema import field_types
from .base import SYSMON_PROVIDERS, as_text
from .evtxfile import event_from_json
from .xmlevents import event_from_element

_PROVIDER_KEYS = ("SourceName", "EventSourceName", "Provider", "ProviderName")
_RECORD_KEYS = ("RecordNumber", "EventRecordID", "record_id")
# The logging host: ours and OTRF 2022 say Computer, NXLog and OTRF 2020 Hostname, Splunk's
# classic WinEventLog ComputerName.
_COMPUTER_KEYS = ("Computer", "Hostname", "ComputerName")
# Splunk's classic WinEventLog says EventCode where the others say EventID.
_ID_KEYS = ("EventID", "EventCode")
# NXLog's own EventType (the record's level) shares its name with Sysmon's registry/WMI field.
_NXLOG_EVENT_TYPES = frozenset({"INFO", "WARNING", "ERROR", "CRITICAL", "VERBOSE", "AUDIT_SUCCESS", "AUDIT_FAILURE"})


@cache
def sysmon_fields(event_id: int) -> frozenset[str]:
    """Every EventData name Sysmon has used for this event id, in any schema version."""
    return frozenset(field_types(event_id))


def records_of(document: object) -> Iterator[object]:
    """The records a parsed JSON value holds: itself, or the elements of an array, of Splunk's
    ``results`` or of an Elasticsearch response's hits; Splunk's ``result`` and a hit's
    ``_source`` are unwrapped."""
    if isinstance(document, list) and all(isinstance(item, dict) for item in document):
        for item in document:
            yield from records_of(item)
        return
    if isinstance(document, dict):
        results = document.get("results")
        hits = document.get("hits")
        if isinstance(results, list) and "fields" not in document:
            yield from records_of(results)
            return
        if isinstance(hits, dict) and isinstance(hits.get("hits"), list):
            yield from records_of(hits["hits"])
            return
        for wrapper in ("result", "_source"):
            inner = document.get(wrapper)
            if isinstance(inner, dict) and wrapper not in inner:
                yield inner
                return
    yield document


def event_of(obj: object, origin: Origin) -> tuple[Event | None, str]:
    """The Sysmon event in one record of any shape, or None and its channel (or provider)."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    if "fields" in obj:
        return _canonical(obj, origin), ""
    body = obj.get("Event")
    if isinstance(body, dict) and "System" in body:
        record = _record(_text_of(_object(body["System"], "Event.System").get("EventRecordID")),
                         "Event.System.EventRecordID")
        event, channel = event_from_json(body, Origin(origin.source, record, origin.line))
        if event is not None:
            _event_id(event.event_id, "Event.System.EventID")
        return event, channel
    raw = obj.get("_raw")
    if isinstance(raw, str) and raw.lstrip().startswith(("<Event", "<?xml")):
        root = etree.fromstring(raw.strip().encode("utf-8"), _xml_parser())
        return event_from_element(root, origin.source, origin.line or 0)
    if isinstance(raw, str) and not any(k in obj for k in _ID_KEYS) and "\nMessage=" in raw:
        return _flat(_classic(raw), origin)
    winlog = obj.get("winlog")
    if isinstance(winlog, dict):
        return _winlog(obj, winlog, origin)
    return _flat(obj, origin)


def _xml_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _int(value: object) -> int | None:
    text = as_text(value).strip()
    # isdigit() also accepts "²" or "٣", which int() refuses or reads as another number.
    return int(text) if text.isascii() and text.isdigit() else None


def _text_of(value: object) -> object:
    """An element with attributes (``{"#text": 5, "#attributes": ...}``) by its text."""
    return value.get("#text") if isinstance(value, dict) else value


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
    root = etree.fromstring(text.encode("utf-8"), _xml_parser())
    return {d.get("Name", ""): d.text or "" for d in root if str(d.tag).endswith("Data") and d.get("Name")}


def _sysmon(event_id: int, fields: dict[str, str], provider: str | None, origin: Origin,
            channel: object = None) -> tuple[Event | None, str]:
    if provider is not None and provider not in SYSMON_PROVIDERS:
        return None, as_text(channel or provider)
    return Event.read(event_id, fields, origin), ""


def _canonical(obj: Mapping[str, Any], origin: Origin) -> Event:
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
    record = _record(obj.get("record"), "record")
    return Event.read(event_id, fields, Origin(origin.source, record, origin.line, computer_of(obj)))


def _winlog(obj: Mapping[str, Any], winlog: Mapping[str, Any], origin: Origin) -> tuple[Event | None, str]:
    raw_id = winlog["event_id"] if "event_id" in winlog else _object(obj.get("event"), "event").get("code")
    event_id = _int(raw_id)
    if event_id is None:
        raise ValueError('"winlog.event_id" is not a number')
    fields = _strings(winlog.get("event_data"), "winlog.event_data")
    record = _record(winlog.get("record_id"), "winlog.record_id")
    provider = as_text(winlog.get("provider_name")) or None
    return _sysmon(_event_id(event_id, "winlog.event_id"), fields, provider,
                   Origin(origin.source, record, origin.line, computer_of(obj)), winlog.get("channel"))


def _flat(obj: Mapping[str, Any], origin: Origin) -> tuple[Event | None, str]:
    key = next((k for k in _ID_KEYS if k in obj), "EventID")
    event_id = _int(obj.get(key))
    if event_id is None:
        raise ValueError('no "EventID", "fields", "winlog" or "Event" in this object')
    _event_id(event_id, key)
    provider = next((as_text(obj[k]) for k in _PROVIDER_KEYS if k in obj), None)
    record = next((_record(obj[k], k) for k in _RECORD_KEYS if k in obj), None)
    where = Origin(origin.source, record, origin.line, computer_of(obj))
    embedded = obj.get("EventData")
    if isinstance(embedded, str) and embedded.lstrip().startswith("<"):
        return _sysmon(event_id, _event_data_xml(embedded), provider, where, obj.get("Channel"))
    if embedded is not None and not isinstance(embedded, str):
        return _sysmon(event_id, _strings(embedded, "EventData"), provider, where, obj.get("Channel"))
    names = sysmon_fields(event_id)
    fields = {k: as_text(v) for k, v in obj.items() if k in names and not isinstance(v, list | dict)}
    if fields.get("EventType") in _NXLOG_EVENT_TYPES:
        del fields["EventType"]
    message = obj.get("Message")
    if not fields and isinstance(message, str):  # only the rendered message: Splunk's classic WinEventLog
        fields = _message_fields(message, names)
    return _sysmon(event_id, fields, provider, where, obj.get("Channel") or obj.get("LogName"))


# What a classic WinEventLog record's header says about the record itself (its other lines, such
# as EventType=4 or User=NOT_TRANSLATED, are the log's metadata, not the event's fields).
_CLASSIC_KEYS = frozenset({"LogName", "EventCode", "SourceName", "RecordNumber", "ComputerName"})


def _classic(raw: str) -> dict[str, str]:
    """Splunk's classic ``WinEventLog`` text: ``Key=value`` header lines, then ``Message=`` and
    the rendered message to the end."""
    header, _, message = raw.partition("\nMessage=")
    record = {key: value.strip() for key, _, value in (line.partition("=") for line in header.splitlines())
              if key in _CLASSIC_KEYS}
    return {**record, "Message": message}


def _message_fields(message: str, names: frozenset[str]) -> dict[str, str]:
    """The ``Name: value`` lines of an event's rendered message (``Process Create:`` and such
    titles left out); a line that names no field continues the value before it."""
    fields: dict[str, str] = {}
    last: str | None = None
    for line in message.replace("\r\n", "\n").strip("\n").split("\n"):
        name, sep, value = line.partition(": ")
        if not sep and line.endswith(":") and line[:-1] in names:
            name, sep, value = line[:-1], ":", ""  # an empty value: "Name:" alone
        if sep and name in names and name not in fields:
            fields[name] = value
            last = name
        elif last is not None:
            fields[last] += "\n" + line
    return fields


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
