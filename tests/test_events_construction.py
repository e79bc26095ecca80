"""``Event`` refuses wrong types where they are made, not deep inside the evaluator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sysmon_rules as sr


@pytest.mark.parametrize("event_id, fields, message", [
    ("1", {}, r"event_id must be an int, got str '1' \(use int\(\.\.\.\)\)"),
    (True, {}, "event_id must be an int, got bool"),
    (1.0, {}, "event_id must be an int, got float"),
    (1, [("Image", "x")], "fields must be a mapping"),
])
def test_wrong_types_are_a_type_error_at_construction(event_id: object, fields: object, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        sr.Event(event_id, fields)  # type: ignore[arg-type]


def test_a_right_event_is_decided() -> None:
    config = sr.loads('<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="include">'
                      '<Image condition="end with">cmd.exe</Image></ProcessCreate></EventFiltering></Sysmon>')
    assert sr.Evaluator(config).decide(sr.Event(1, {"Image": "C:\\cmd.exe"})).decision == "include"


def test_numbers_booleans_and_uuids_are_rendered_as_sysmon_renders_them() -> None:
    # SysmonCommon eventsCommon.cpp: UInt16/UInt32 "%hu"/"%u", HexInt32/64 "0x%x", Boolean
    # "true"/"false", GUID StringFromGUID2 ("{...}" upper case)
    import uuid

    event = sr.Event(3, {"DestinationPort": 3389, "SourcePort": 0, "ProcessId": 4294967295, "Initiated": True,
                         "SourceIsIpv6": False, "ProcessGuid": uuid.UUID("23f38d93-ceb4-5f8e-9f08-000000000c00")})
    assert dict(event.fields) == {"DestinationPort": "3389", "SourcePort": "0", "ProcessId": "4294967295",
                                  "Initiated": "true", "SourceIsIpv6": "false",
                                  "ProcessGuid": "{23F38D93-CEB4-5F8E-9F08-000000000C00}"}
    assert sr.Event(10, {"GrantedAccess": 0x1FFFFF}).fields["GrantedAccess"] == "0x1fffff"
    assert sr.Event(1, {"LogonId": 0x3E7}).fields["LogonId"] == "0x3e7"
    assert sr.Event(3, {"DestinationPort": 3389}) == sr.Event(3, {"DestinationPort": "3389"})


def test_a_typed_value_is_decided_as_its_text() -> None:
    config = sr.loads('<Sysmon schemaversion="4.90"><EventFiltering><NetworkConnect onmatch="include">'
                      '<DestinationPort condition="is">3389</DestinationPort></NetworkConnect>'
                      '</EventFiltering></Sysmon>')
    assert sr.Evaluator(config).decide(sr.Event(3, {"DestinationPort": 3389})).decision == "include"


@pytest.mark.parametrize("event_id, fields, error, message", [
    (3, {"DestinationPort": 70000}, ValueError, r"'DestinationPort' of event 3 \(UInt16\): 70000 is out of range"),
    (3, {"DestinationPort": -1}, ValueError, "out of range"),
    (3, {"DestinationPort": True}, TypeError, "must be text or an int, got bool"),
    (3, {"DestinationPort": 3389.0}, TypeError, "must be text or an int, got float"),
    (3, {"Initiated": 1}, TypeError, r"'Initiated' of event 3 \(Boolean\) must be text or True or False"),
    (1, {"Image": 5}, TypeError, r"'Image' of event 1 \(UnicodeString\) must be text, got int 5"),
    (1, {"Image": None}, TypeError, "must be text, got NoneType"),
    (1, {"ProcessGuid": 5}, TypeError, "must be text or a uuid.UUID"),
    (3, {"DestinatoinPort": "1"}, ValueError, r"unknown field 'DestinatoinPort' for event 3 \(did you mean "
                                               r"'DestinationPort'\?\)"),
    (3, {"Foo": "1"}, ValueError, r"unknown field 'Foo' for event 3 \(known: DestinationHostname, "),
    (9999, {"Image": "x"}, ValueError, "event id 9999 is no Sysmon event, so it has no field 'Image'"),
])
def test_values_and_names_sysmon_cannot_have_are_refused(event_id: int, fields: dict[str, object],
                                                         error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        sr.Event(event_id, fields)  # type: ignore[arg-type]


def test_the_evtx_librarys_typed_values_make_the_events_the_collector_reads(shared_dir: Path) -> None:
    """The evtx library gives ports and ids as numbers and flags as booleans: given so to
    ``Event``, they make the events the EVTX collector reads from the same records."""
    from evtx import PyEvtxParser

    from sysmon_rules.collectors import read

    checked = 0
    for path in sorted((shared_dir / "corpus" / "evtx").rglob("*.evtx"))[:60]:
        read_events = {e.origin.record: e for e in read(path) if e.origin is not None}
        for record in PyEvtxParser(str(path)).records_json():
            body = json.loads(record["data"])["Event"]
            want = read_events.get(record["event_record_id"])
            if want is None or not isinstance(body.get("EventData"), dict):
                continue
            typed = {k: v if isinstance(v, int) else want.fields[k] for k, v in body["EventData"].items()}
            checked += sum(isinstance(v, int) for v in typed.values())
            assert sr.Event(want.event_id, typed).fields == want.fields
    assert checked > 500
