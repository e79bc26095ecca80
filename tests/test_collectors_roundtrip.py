"""Real events exported to each shape the collectors read come back identical (one per shape)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sysmon_rules.collectors import read
from sysmon_rules.collectors.export import FORMATS, write_file
from test_collectors_evtx import corpus

COLLECTOR = {"wevtutil": "xml", "splunk": "xml", "syslog": "xml", "canonical": "jsonl", "nxlog": "jsonl",
             "otrf2022": "jsonl", "winlogbeat": "jsonl"}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_export_then_collect_gives_the_same_events(shared_dir: Path, tmp_path: Path, fmt: str) -> None:
    events, _ = corpus()
    path = tmp_path / f"events.{fmt}"
    assert write_file(events, path, fmt) == len(events)
    stream = read(path)  # recognised by content
    back = list(stream)
    assert stream.files == [(str(path), COLLECTOR[fmt])]
    assert stream.stats.skipped == 0 and not stream.stats.other
    assert back == list(events)  # ids and every field value, in order
    if fmt == "canonical":  # carries no record id; the origin is the line
        assert [e.origin.line for e in back if e.origin] == list(range(1, len(events) + 1))
        return
    # the record ids survive too (the exporters write the evtx record ids)
    assert [e.origin.record for e in back if e.origin] == [e.origin.record for e in events if e.origin]


def test_values_xml_must_escape_survive(tmp_path: Path) -> None:
    from sysmon_rules.events import Event

    tricky = [Event(1, {"CommandLine": "a\r\nb <x> & \"q\" 'a'\t", "Image": "", "User": "ü€"}),
              Event(13, {"EventType": "SetValue", "Details": "DWORD (0x00000001)"})]
    for fmt in FORMATS:
        path = tmp_path / f"t.{fmt}"
        write_file(tricky, path, fmt)
        assert list(read(path)) == tricky, fmt
