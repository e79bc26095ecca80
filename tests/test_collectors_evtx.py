"""The evtx collector on the real EVTX corpus: every Sysmon record, every EventData field."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from conftest import SHARED
from sysmon_rules.collectors import CollectorError, read
from sysmon_rules.collectors.evtxvalues import render
from sysmon_rules.events import Event

SAMPLE = "Privilege Escalation/Sysmon_UACME_64.evtx"  # 530 Sysmon records


@cache
def corpus() -> tuple[tuple[Event, ...], dict[str, object]]:
    assert SHARED is not None
    stream = read(SHARED / "corpus" / "evtx")
    events = tuple(stream)
    return events, {"stats": stream.stats, "files": stream.files, "unread": stream.unread}


def _readme_counts(shared: Path) -> dict[int, int]:
    """The README's "Sysmon events by id" table: | id | event | records |."""
    text = (shared / "corpus" / "evtx" / "README.md").read_text("utf-8")
    table = text.split("Sysmon events by id", 1)[1].split("\n\n", 2)[1]
    return {int(m[1]): int(m[2]) for m in re.finditer(r"^\| (\d+) \| [^|]+ \| (\d+) \|$", table, re.M)}


def test_reads_exactly_the_sysmon_events_the_readme_counts(shared_dir: Path) -> None:
    events, info = corpus()
    want = _readme_counts(shared_dir)
    assert sum(want.values()) == 3241
    assert len(events) == 3241
    assert Counter(e.event_id for e in events) == want
    stats = info["stats"]
    assert stats.events == 3241 and stats.skipped == 0  # type: ignore[attr-defined]
    assert stats.other == {"Security": 19}  # type: ignore[attr-defined]  # 3260 records in all
    assert len(info["files"]) == 193  # type: ignore[arg-type]
    assert info["unread"] == [str(shared_dir / "corpus" / "evtx" / "README.md")]


def test_every_eventdata_field_as_the_record_holds_it(shared_dir: Path) -> None:
    from evtx import PyEvtxParser

    events, _ = corpus()
    by_origin = {(e.origin.source, e.origin.record): e for e in events if e.origin is not None}
    assert len(by_origin) == len(events)  # every event names its file and record id
    checked = 0
    for path in sorted((shared_dir / "corpus" / "evtx").rglob("*.evtx"))[::7]:
        for record in PyEvtxParser(str(path)).records_json():
            body = json.loads(record["data"])["Event"]
            if body["System"]["Provider"]["#attributes"]["Name"] != "Microsoft-Windows-Sysmon":
                continue
            event = by_origin[str(path), record["event_record_id"]]
            data = body.get("EventData") or {}
            assert event.event_id == body["System"]["EventID"]
            assert list(event.fields) == list(data)
            for name, value in data.items():
                got = event.fields[name]
                if isinstance(value, bool):
                    assert got == str(value).lower()
                elif name.lower().endswith("guid") and value:
                    assert got == "{" + str(value).lower() + "}"
                else:
                    assert got == ("" if value is None else str(value)), name
                checked += 1
    assert checked > 3000


def test_values_render_as_windows_renders_them() -> None:
    assert render("ProcessGuid", "365ABB72-9B75-5C8E-0000-0010013F1200") == "{365abb72-9b75-5c8e-0000-0010013f1200}"
    assert render("SourceIsIpv6", False) == "false"
    assert render("ProcessId", 1856) == "1856"
    assert render("RuleName", None) == ""
    assert render("CommandLine", "365ABB72-9B75-5C8E-0000-0010013F1200") == "365ABB72-9B75-5C8E-0000-0010013F1200"


def _damaged(shared_dir: Path, tmp_path: Path) -> Path:
    """A copy of a real file whose 6th record has garbage in its body."""
    data = bytearray((shared_dir / "corpus" / "evtx" / SAMPLE).read_bytes())
    starts = [m.start() for m in re.finditer(rb"\*\*\x00\x00", bytes(data))]
    data[starts[5] + 24:starts[5] + 80] = b"\xff" * 56
    bad = tmp_path / "damaged.evtx"
    bad.write_bytes(bytes(data))
    return bad


def test_damaged_record_is_skipped_named_and_counted(shared_dir: Path, tmp_path: Path) -> None:
    bad = _damaged(shared_dir, tmp_path)
    warnings: list[str] = []
    stream = read(bad)
    stream.warn = warnings.append
    events = list(stream)
    assert len(events) == 529 and stream.stats.skipped == 1
    assert len(warnings) == 1 and warnings[0].startswith(f"{bad}#6: damaged record skipped")
    whole = list(read(shared_dir / "corpus" / "evtx" / SAMPLE))
    assert events == whole[:5] + whole[6:]
    with pytest.raises(CollectorError, match="#6"):
        list(read(bad, strict=True))


def test_gzip_is_read_through(shared_dir: Path, tmp_path: Path) -> None:
    packed = tmp_path / "sample.evtx.gz"
    packed.write_bytes(gzip.compress((shared_dir / "corpus" / "evtx" / SAMPLE).read_bytes()))
    stream = read(packed)
    assert list(stream) == list(read(shared_dir / "corpus" / "evtx" / SAMPLE))
    assert stream.files == [(str(packed), "evtx")]
    unnamed = tmp_path / "sample.log"  # recognised by content, not by name
    unnamed.write_bytes(packed.read_bytes())
    assert len(list(read(unnamed))) == 530


def test_a_record_id_beyond_64_bit_signed_is_a_damaged_record(shared_dir: Path, tmp_path: Path) -> None:
    """A damaged record header can give an id no Arrow column holds: that record is skipped and
    counted, in events and in batches alike, and the rest of the file is read."""
    data = bytearray((shared_dir / "corpus" / "evtx" / SAMPLE).read_bytes())
    starts = [m.start() for m in re.finditer(rb"\*\*\x00\x00", bytes(data))]
    data[starts[5] + 8:starts[5] + 16] = b"\xff" * 8  # the 6th record's id: 2**64 - 1
    bad = tmp_path / "bad-id.evtx"
    bad.write_bytes(bytes(data))
    whole = list(read(shared_dir / "corpus" / "evtx" / SAMPLE))
    warnings: list[str] = []
    stream = read(bad)
    stream.warn = warnings.append
    assert list(stream) == whole[:5] + whole[6:] and stream.stats.skipped == 1
    assert warnings == [f"{bad}#6: damaged record skipped: record id 18446744073709551615 is out of range "
                        "(a damaged record header)"]
    batched = read(bad)
    batched.warn = warnings.append
    records = [n for batch in batched.batches() for n in batch.column("record").to_pylist()]
    assert records == [e.origin.record for e in whole[:5] + whole[6:]] and batched.stats.skipped == 1
    with pytest.raises(CollectorError, match="#6"):
        list(read(bad, strict=True))
