"""Event JSON in the shapes tools write reads as the same events as the EVTX it came from.

The EVTX corpus is written out the way the tools write it (the ``evtx`` library's JSON, one per
line and pretty-printed with ``evtx_dump``'s ``Record N`` lines; Winlogbeat/ECS documents, bare
and as Elasticsearch hits; Splunk's JSON export of ``XmlWinEventLog`` results, per line and
from the REST API), and SigmaHQ's own ``regression_data`` JSON is read beside its EVTX: no
record may be damaged, and every event must equal the EVTX collector's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from evtx import PyEvtxParser

from conftest import SHARED
from sysmon_rules.collectors import read
from sysmon_rules.collectors.jsonl_batches import parse_block
from sysmon_rules.events import Event
from sysmon_rules.schema import ascii_lower

# Corpus files with many records and several event ids (the whole corpus is read elsewhere).
SAMPLES = ("Privilege Escalation/Sysmon_UACME_64.evtx", "UACME_59_Sysmon.evtx")


def _evtx(name: str) -> Path:
    assert SHARED is not None
    return SHARED / "corpus" / "evtx" / name


@cache
def _records(name: str) -> tuple[tuple[int, dict[str, Any], str], ...]:
    """Each record of a corpus file: its header's record id, the evtx library's JSON object and
    its event XML."""
    as_json = [(r["event_record_id"], json.loads(r["data"])) for r in PyEvtxParser(str(_evtx(name))).records_json()]
    as_xml = [r["data"] for r in PyEvtxParser(str(_evtx(name))).records()]
    return tuple((number, obj, xml) for (number, obj), xml in zip(as_json, as_xml, strict=True))


def _read(path: Path) -> tuple[list[Event], int, int]:
    messages: list[str] = []
    stream = read(path)
    stream.warn = messages.append
    events = list(stream)
    assert [m for m in messages if "damaged" in m] == []
    return events, stream.stats.skipped, sum(stream.stats.other.values())


def _key(event: Event, record: int | None = None) -> tuple[object, ...]:
    assert event.origin is not None
    return event.event_id, dict(event.fields), record or event.origin.record, event.origin.computer


def _ecs(obj: dict[str, Any], event: Event | None) -> dict[str, Any]:
    """What Winlogbeat 8 writes for a record: winlog.* with EventData as rendered text, ECS beside."""
    system = obj["Event"]["System"]
    winlog = {"channel": system["Channel"], "computer_name": system["Computer"],
              "event_id": str(system["EventID"]), "provider_name": system["Provider"]["#attributes"]["Name"],
              "record_id": system["EventRecordID"], "process": {"pid": 4, "thread": {"id": 8}},
              "event_data": dict(event.fields) if event is not None else {"SubjectUserName": "x"}}
    return {"@timestamp": system["TimeCreated"]["#attributes"]["SystemTime"], "winlog": winlog,
            "event": {"code": str(system["EventID"]), "kind": "event", "provider": winlog["provider_name"]},
            "host": {"name": system["Computer"].lower()}, "ecs": {"version": "8.0.0"}}


def _splunk(xml: str) -> dict[str, Any]:
    """A Splunk result of sourcetype XmlWinEventLog: the event XML, without a declaration, as _raw."""
    raw = xml.split("?>", 1)[1].strip() if xml.startswith("<?xml") else xml
    return {"_raw": raw, "_time": "2020-10-05T10:00:00.000+00:00", "host": "WS1", "EventCode": "1",
            "source": "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational", "sourcetype": "XmlWinEventLog"}


def _classic(obj: dict[str, Any], event: Event | None) -> dict[str, Any]:
    """A Splunk result of sourcetype WinEventLog (classic): the record's header lines and its
    rendered message (the event type's title, then ``Name: value`` per field, CR LF between)."""
    from sysmon_rules.schema import newest

    system = obj["Event"]["System"]
    lines = [f"{k}: {v}" for k, v in (event.fields.items() if event is not None else [])]
    title = newest().events_by_id[event.event_id].template if event is not None else "Other"
    raw = "\n".join(["10/05/2020 10:00:00 AM", f"LogName={system['Channel']}", f"EventCode={system['EventID']}",
                     "EventType=4", f"ComputerName={system['Computer']}", "User=NOT_TRANSLATED", "Sid=S-1-5-18",
                     f"SourceName={system['Provider']['#attributes']['Name']}", "Type=Information",
                     f"RecordNumber={system['EventRecordID']}", "Keywords=None", "OpCode=Info",
                     "Message=" + "\r\n".join([f"{title}:", *lines])])
    return {"_raw": raw, "_time": "2020-10-05T10:00:00.000+00:00", "sourcetype": "WinEventLog"}


def _lines(items: list[Any]) -> str:
    return "".join(json.dumps(item) + "\n" for item in items)


Writer = Callable[[str], str]


def _shapes(name: str) -> Iterator[tuple[str, str]]:
    """``(shape, file text)`` for each shape a tool writes the corpus file's records in."""
    records = _records(name)
    by_record = {e.origin.record: e for e in read(_evtx(name)) if e.origin is not None}
    objs = [obj for _, obj, _ in records]
    ecs = [_ecs(obj, by_record.get(number)) for number, obj, _ in records]
    splunk = [_splunk(xml) for _, _, xml in records]
    yield "evtx_dump -o jsonl", _lines(objs)
    yield "evtx_dump -o json", "".join(f"Record {o['Event']['System']['EventRecordID']}\n{json.dumps(o, indent=2)}\n"
                                       for o in objs)
    yield "json.dumps(indent=2) of an array", json.dumps(objs, indent=2) + "\n"
    yield "winlogbeat", _lines(ecs)
    yield "elasticsearch hits", _lines([{"_index": "winlogbeat", "_id": str(i), "_source": doc}
                                        for i, doc in enumerate(ecs)])
    yield "splunk export", _lines([{"preview": False, "offset": i, "result": r} for i, r in enumerate(splunk)])
    yield "splunk classic export", _lines([{"preview": False, "result": _classic(obj, by_record.get(number))}
                                           for number, obj, _ in records])
    yield "splunk rest", json.dumps({"preview": False, "init_offset": 0, "messages": [], "results": splunk}) + "\n"


@pytest.mark.parametrize("name", SAMPLES)
def test_every_shape_reads_as_the_evtx_it_came_from(shared_dir: Path, tmp_path: Path, name: str) -> None:
    want, skipped, other = _read(_evtx(name))
    assert skipped == 0 and len(want) > 5
    # The record id in the event (System/EventRecordID) is the log's; an exported file's record
    # headers number the records afresh, and the EVTX collector names them by the header's.
    renumbered = {number: obj["Event"]["System"]["EventRecordID"] for number, obj, _ in _records(name)}
    want_keys = [_key(e, renumbered[e.origin.record]) for e in want if e.origin is not None]
    for shape, text in _shapes(name):
        path = tmp_path / f"{shape.replace(' ', '_')}.json"
        path.write_text(text, "utf-8")
        got, skipped, got_other = _read(path)
        assert (skipped, got_other, len(got)) == (0, other, len(want)), shape
        assert [_key(e) for e in got] == want_keys, shape


def _folded(event: Event) -> tuple[object, ...]:
    """The event as Sysmon's rules compare it: values ASCII-folded (and, for this data, stripped)."""
    return event.event_id, sorted((k, ascii_lower(v).strip()) for k, v in event.fields.items())


def test_sigma_regression_json_reads_as_its_evtx(shared_dir: Path) -> None:
    """SigmaHQ keeps each case as EVTX and as the evtx library's JSON (pretty, concatenated).

    Their JSON went through another rendering than the EVTX beside it (record ids renumbered,
    trailing spaces trimmed, the case of a path in one record): compared as Sysmon's rules see
    values, which fold ASCII case."""
    files = sorted((shared_dir / "corpus" / "sigma" / "regression_data").rglob("*.json"))
    assert len(files) > 100
    read_json = read_evtx = 0
    for path in files:
        got, skipped, other = _read(path)
        want, _, want_other = _read(path.with_suffix(".evtx"))
        assert skipped == 0 and other == want_other, path
        assert sorted(map(_folded, got)) == sorted(map(_folded, want)), path
        read_json += len(got)
        read_evtx += len(want)
    assert read_json == read_evtx > 100


def test_a_pretty_value_cut_short_is_one_damaged_record(tmp_path: Path) -> None:
    obj = _records(SAMPLES[1])[0][1]
    pretty = json.dumps(obj, indent=2).splitlines()
    path = tmp_path / "cut.json"
    path.write_text("\n".join(pretty[:10] + pretty) + "\n", "utf-8")  # a value without its end, then a whole one
    messages: list[str] = []
    stream = read(path)
    stream.warn = messages.append
    assert len(list(stream)) == 1 and stream.stats.skipped == 1
    assert messages == [f"{path}:1: damaged record skipped: a JSON value over many lines, but it has no end"]


def test_pretty_values_never_take_the_block_path() -> None:
    text = json.dumps({"EventID": 1, "fields": {}}, indent=2).encode()
    assert parse_block(text, text.count(b"\n") + 1) is None
