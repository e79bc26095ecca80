"""Events written back out in the shapes the collectors read: event XML and every JSON-lines shape.

Used to build realistic inputs from real events (and to prove the collectors read each shape
back unchanged): ``"".join(export(events, "wevtutil"))``. Metadata that the shapes carry but an
:class:`~sysmon_rules.events.Event` does not (times, and the host when its origin has none) is
filled with fixed placeholders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..events import Event
from ..fileio import json_text, write_output
from ..xml.writer import XML_ILLEGAL

PROVIDER_GUID = "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"
LINUX_PROVIDER_GUID = "{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"
CHANNEL = "Microsoft-Windows-Sysmon/Operational"
EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
HOST = "host.example"
TIME = "2020-01-01T00:00:00.000000Z"


def _escape(text: str, quote: bool = False) -> str:
    if XML_ILLEGAL.search(text):
        raise ValueError(f"a value XML cannot carry: {text!r}")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    if quote:
        text = text.replace("'", "&apos;").replace("\n", "&#10;").replace("\t", "&#9;")
    return text


def _record(event: Event, index: int) -> int:
    origin = event.origin
    return origin.record if origin is not None and origin.record is not None else index


def _host(event: Event) -> str:
    origin = event.origin
    return origin.computer if origin is not None and origin.computer else HOST


def event_data_xml(event: Event, *, namespace: bool = False) -> str:
    xmlns = f" xmlns='{EVENT_NS}'" if namespace else ""
    data = "".join(f"<Data Name='{_escape(k, True)}'>{_escape(v)}</Data>" for k, v in event.fields.items())
    return f"<EventData{xmlns}>{data}</EventData>"


def event_xml(event: Event, record: int, *, linux: bool = False) -> str:
    """One ``<Event>`` as ``wevtutil qe /f:xml`` renders it (Sysmon for Linux: no namespace)."""
    provider = ("<Provider Name='Linux-Sysmon' Guid='" + LINUX_PROVIDER_GUID + "'/>" if linux
                else "<Provider Name='Microsoft-Windows-Sysmon' Guid='" + PROVIDER_GUID + "'/>")
    channel = "Linux-Sysmon/Operational" if linux else CHANNEL
    xmlns = "" if linux else f" xmlns='{EVENT_NS}'"
    return (f"<Event{xmlns}><System>{provider}<EventID>{event.event_id}</EventID><Version>5</Version>"
            f"<Level>4</Level><Task>{event.event_id}</Task><Opcode>0</Opcode><Keywords>0x8000000000000000"
            f"</Keywords><TimeCreated SystemTime='{TIME}'/><EventRecordID>{record}</EventRecordID>"
            f"<Correlation/><Execution ProcessID='4' ThreadID='8'/><Channel>{channel}</Channel>"
            f"<Computer>{_escape(_host(event))}</Computer><Security UserID='S-1-5-18'/></System>"
            f"{event_data_xml(event)}</Event>")


def _wevtutil(event: Event, record: int) -> str:
    return event_xml(event, record)  # wevtutil writes the elements back to back, no root, no newline


def _splunk(event: Event, record: int) -> str:
    return event_xml(event, record) + "\n"


def _syslog(event: Event, record: int) -> str:
    return f"Jan  1 00:00:00 {_host(event)} sysmon: {event_xml(event, record, linux=True)}\n"


def _line(obj: dict[str, object]) -> str:
    return json_text(obj) + "\n"


def _canonical(event: Event, record: int) -> str:
    obj: dict[str, object] = {"EventID": event.event_id, "fields": dict(event.fields)}
    if event.origin is not None and event.origin.computer:
        obj["Computer"] = event.origin.computer
    return _line(obj)


def _nxlog(event: Event, record: int) -> str:
    """NXLog im_msvistalog (and OTRF Security-Datasets 2020, which adds Logstash keys)."""
    meta: dict[str, object] = {
        "EventTime": "2020-01-01 00:00:00", "Hostname": _host(event), "Keywords": -9223372036854775808,
        "EventType": "INFO", "SeverityValue": 2, "Severity": "INFO", "EventID": event.event_id,
        "SourceName": "Microsoft-Windows-Sysmon", "ProviderGuid": PROVIDER_GUID.upper(), "Version": 5,
        "Task": event.event_id, "OpcodeValue": 0, "RecordNumber": record, "ExecutionProcessID": 4,
        "ThreadID": 8, "Channel": CHANNEL, "Domain": "NT AUTHORITY", "AccountName": "SYSTEM",
        "UserID": "S-1-5-18", "AccountType": "User", "Message": "", "Category": "",
        "Opcode": "Info", "EventReceivedTime": "2020-01-01 00:00:01", "SourceModuleName": "eventlog",
        "SourceModuleType": "im_msvistalog", "@timestamp": TIME, "@version": "1", "tags": ["mordorDataset"],
    }
    return _line({**meta, **event.fields})  # NXLog adds EventData after the metadata: same names win


def _otrf2022(event: Event, record: int) -> str:
    meta: dict[str, object] = {
        "EventSourceName": "Microsoft-Windows-Sysmon", "Provider": "Microsoft-Windows-Sysmon",
        "ProviderGuid": PROVIDER_GUID, "Level": "4", "Keywords": "0x8000000000000000", "Channel": CHANNEL,
        "Computer": _host(event), "TimeCreated": TIME, "TimeGenerated": TIME, "EventRecordID": str(record),
        "EventID": event.event_id, "Message": "", "EventData": event_data_xml(event, namespace=True),
        "Task": str(event.event_id),
    }
    return _line({**meta, **event.fields})


def _winlogbeat(event: Event, record: int) -> str:
    return _line({
        "@timestamp": TIME,
        "event": {"code": str(event.event_id), "kind": "event", "provider": "Microsoft-Windows-Sysmon",
                  "module": "sysmon"},
        "host": {"name": _host(event)},
        "winlog": {"channel": CHANNEL, "computer_name": _host(event), "event_id": str(event.event_id),
                   "provider_name": "Microsoft-Windows-Sysmon", "provider_guid": PROVIDER_GUID,
                   "record_id": record, "api": "wineventlog", "event_data": dict(event.fields)},
    })


FORMATS: dict[str, Callable[[Event, int], str]] = {
    "wevtutil": _wevtutil,
    "splunk": _splunk,
    "syslog": _syslog,
    "canonical": _canonical,
    "nxlog": _nxlog,
    "otrf2022": _otrf2022,
    "winlogbeat": _winlogbeat,
}


def export(events: Iterable[Event], fmt: str) -> Iterator[str]:
    """The text of each event in ``fmt`` (one of :data:`FORMATS`), in order."""
    render = FORMATS[fmt]
    for index, event in enumerate(events, 1):
        yield render(event, _record(event, index))


def write_file(events: Iterable[Event], path: str | Path, fmt: str) -> int:
    """Write the events to ``path`` atomically (whole or untouched); returns how many."""
    count = 0

    def counted() -> Iterator[str]:
        nonlocal count
        for text in export(events, fmt):
            count += 1
            yield text

    write_output(path, counted())
    return count
