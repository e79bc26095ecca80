"""The xml and jsonl collectors on the shapes real shippers write, damage and all."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from sysmon_rules.collectors import CollectorError, read
from sysmon_rules.collectors.export import event_xml
from sysmon_rules.events import Event

EV1 = Event(1, {"RuleName": "-", "Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c \"x\"",
                "ProcessGuid": "{03bfca49-8dd2-632c-550d-000000000b00}"})
EV3 = Event(3, {"Image": "C:\\a.exe", "DestinationPort": "443", "Initiated": "true"})
SECURITY = ("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
            "<Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4624</EventID>"
            "<Channel>Security</Channel></System><EventData><Data Name='X'>1</Data></EventData></Event>")


def _lines(events: list[tuple[int, str | None]]) -> list[int | None]:
    return [line for line, _ in events]


def test_wevtutil_stream_with_damage_resyncs_and_names_lines(tmp_path: Path) -> None:
    text = "\r\n".join([event_xml(EV1, 10), SECURITY, event_xml(EV3, 11)[:-20], event_xml(EV3, 12),
                        "<Event><System><EventID>1</EventID></Sys></Event>", event_xml(EV1, 13)]) + "\r\n"
    path = tmp_path / "qe.xml"
    path.write_text(text, "utf-8")
    warnings: list[str] = []
    stream = read(path)
    stream.warn = warnings.append
    got = list(stream)
    assert got == [EV1, EV3, EV1]
    assert [(e.origin.record, e.origin.line) for e in got if e.origin] == [(10, 1), (12, 4), (13, 6)]
    assert [w.split(": damaged")[0] for w in warnings] == [f"{path}:3", f"{path}:5"]
    assert stream.stats.skipped == 2 and stream.stats.other == {"Security": 1}
    with pytest.raises(CollectorError, match=r"qe.xml:3: damaged record"):
        list(read(path, strict=True))


def test_utf16_wevtutil_output_and_splunk_quotes(tmp_path: Path) -> None:
    path = tmp_path / "qe16.xml"
    path.write_bytes(("\ufeff" + event_xml(EV1, 1) + "\n" + event_xml(EV3, 2)).encode("utf-16-le"))
    assert list(read(path)) == [EV1, EV3]
    splunk = tmp_path / "splunk.xml"
    splunk.write_text(event_xml(EV1, 1).replace("'", '"') + "\n", "utf-8")
    assert list(read(splunk)) == [EV1]


def test_sysmon_for_linux_syslog_lines(tmp_path: Path) -> None:
    line = ('Nov 23 02:33:50 web01 sysmon: <Event><System><Provider Name="Linux-Sysmon" '
            'Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>3</EventID><Version>5</Version>'
            '<EventRecordID>77</EventRecordID><Channel>Linux-Sysmon/Operational</Channel></System><EventData>'
            '<Data Name="RuleName">-</Data><Data Name="Image">/usr/bin/curl</Data>'
            '<Data Name="DestinationPort">443</Data></EventData></Event>')
    path = tmp_path / "syslog"
    path.write_text("Nov 23 02:33:49 web01 systemd[1]: Started x.\n" + line + "\n", "utf-8")
    (event,) = list(read(path))
    assert event == Event(3, {"RuleName": "-", "Image": "/usr/bin/curl", "DestinationPort": "443"})
    assert event.origin is not None and (event.origin.record, event.origin.line) == (77, 2)


OTRF_2020 = {  # NXLog im_msvistalog through Logstash: metadata and EventData side by side
    "tags": ["mordorDataset"], "@version": "1", "EventType": "INFO", "Version": 3, "ThreadID": 4364,
    "EventTime": "2020-08-06 12:13:04", "Task": 10, "SourceName": "Microsoft-Windows-Sysmon",
    "Channel": "Microsoft-Windows-Sysmon/Operational", "Hostname": "WORKSTATION5", "Message": "Process accessed: ...",
    "SourceProcessGUID": "{297bc33e-5c2f-5f2b-1000-000000000400}", "SourceProcessId": "908", "ProcessId": "908",
    "GrantedAccess": "0x1000", "ExecutionProcessID": 3284, "EventID": 10, "RecordNumber": 403185,
    "SourceModuleType": "im_msvistalog", "Keywords": -9223372036854775808, "TargetImage": "C:\\x.exe",
    "RuleName": "-", "AccountName": "SYSTEM"}


def test_jsonl_shapes_per_line_and_other_providers(tmp_path: Path) -> None:
    rows = [
        {"EventID": 1, "fields": {"Image": "C:\\a.exe"}},
        OTRF_2020,
        {"winlog": {"event_id": "3", "provider_name": "Microsoft-Windows-Sysmon", "record_id": 9,
                    "event_data": {"Image": "C:\\a.exe", "DestinationPort": "443"}}},
        {"winlog": {"event_id": 4624, "provider_name": "Microsoft-Windows-Security-Auditing",
                    "channel": "Security", "event_data": {}}},
        {"EventID": 7, "EventSourceName": "Microsoft-Windows-Sysmon", "EventRecordID": "5", "ImageLoaded": "flat",
         "EventData": "<EventData xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>"
                      "<Data Name='ImageLoaded'>C:\\b.dll</Data><Data Name='Signed'>true</Data></EventData>"},
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    stream = read(path)
    got = list(stream)
    assert [(e.event_id, dict(e.fields), e.origin.record if e.origin else None) for e in got] == [
        (1, {"Image": "C:\\a.exe"}, None),
        (10, {"SourceProcessGUID": "{297bc33e-5c2f-5f2b-1000-000000000400}", "SourceProcessId": "908",
              "GrantedAccess": "0x1000", "TargetImage": "C:\\x.exe", "RuleName": "-"}, 403185),
        (3, {"Image": "C:\\a.exe", "DestinationPort": "443"}, 9),
        (7, {"ImageLoaded": "C:\\b.dll", "Signed": "true"}, 5),
    ]
    assert stream.stats.other == {"Security": 1}


def test_jsonl_malformed_line_is_skipped_counted_and_an_error_under_strict(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"EventID": 1, "fields": {}}\n{"EventID": 1, "fields": \n{"EventID": 2, "fields": {}}\n', "utf-8")
    stream = read(bad)
    with pytest.warns(UserWarning, match=r"bad.jsonl:2: damaged record skipped: not JSON"):
        assert [e.event_id for e in stream] == [1, 2]
    assert stream.stats.skipped == 1
    with pytest.raises(CollectorError, match=r"bad.jsonl:2: damaged record: not JSON"):
        list(read(bad, strict=True))
    cut = tmp_path / "cut.jsonl"
    cut.write_text('{"EventID": 1, "fields": {}}\n{"EventID": 1, "fie', "utf-8")
    stream = read(cut)
    with pytest.warns(UserWarning, match=r"cut.jsonl:2: damaged record skipped"):
        assert [e.event_id for e in stream] == [1]
    assert stream.stats.skipped == 1


def test_jsonl_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b'{"EventID": 1, "fields": {"Image": "x"}}\n'
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    stream = read("-")
    assert [(e, e.origin.source if e.origin else "") for e in stream] == [(Event(1, {"Image": "x"}), "-")]
    assert stream.files == [("-", "jsonl")]
