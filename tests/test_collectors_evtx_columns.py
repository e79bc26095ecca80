"""The EVTX batch path (records straight to columns) against the event path it must equal.

Oracle: ``EventStream.batches`` over the events ``EvtxCollector.events`` yields (the per-record
path, itself checked field by field against the records in test_collectors_evtx.py). Every record of
the corpus, batch boundaries inside and across files, damaged records, other channels, file
names Arrow cannot hold, and drawn EventData of every JSON shape the parser can print.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sysmon_rules.collectors import EventStream
from sysmon_rules.collectors.arrow import batches, field_names
from sysmon_rules.collectors.base import Source
from sysmon_rules.collectors.evtxcolumns import EvtxRows
from sysmon_rules.collectors.evtxfile import PROVIDER, EvtxCollector, _row, event_from_json
from sysmon_rules.collectors.registry import available
from sysmon_rules.events import Event, Origin

SAMPLE = "Privilege Escalation/Sysmon_UACME_64.evtx"  # 530 Sysmon records


class EventsOnly:
    """The evtx collector without ``gather``: the stream batches its events (the oracle)."""

    name, description = EvtxCollector.name, EvtxCollector.description

    def __init__(self) -> None:
        self._inner = EvtxCollector()

    def recognizes(self, head: bytes, name: str) -> bool:
        return self._inner.recognizes(head, name)

    def events(self, source: Source) -> Iterator[Event]:
        return self._inner.events(source)


def _both(inputs: list[Path], rows: int | None = None) -> tuple[Any, ...]:
    """(table, stats, warnings, batch sizes) from the batch path and from the event path."""
    found = []
    for collectors in (available(), {**available(), "evtx": EventsOnly()}):
        warned: list[str] = []
        stream = EventStream(inputs, warn=warned.append, collectors=collectors)
        produced = list(stream.batches(rows))
        table = pa.Table.from_batches(produced) if produced else None
        found.append((table.to_pydict() if table is not None else None, stream.stats, warned,
                      [b.num_rows for b in produced]))
    return tuple(found)


def test_whole_corpus_equals_the_event_path(shared_dir: Path) -> None:
    columnar, events = _both([shared_dir / "corpus" / "evtx"])
    assert columnar == events
    table, stats, warned, sizes = columnar
    assert sizes == [3241] and stats.events == 3241 and stats.other == {"Security": 19} and not warned
    assert sum(v is not None for v in table["ProcessGuid"]) > 1000  # GUIDs braced on both sides


@pytest.mark.parametrize("rows", [1, 97, 530, 531])  # 530: the records of SAMPLE, a whole file's block
def test_batch_boundaries_inside_and_across_files(shared_dir: Path, rows: int) -> None:
    columnar, events = _both([shared_dir / "corpus" / "evtx"], rows=rows)
    assert columnar == events
    assert set(columnar[3][:-1]) == {rows} and sum(columnar[3]) == 3241


def test_damaged_records_are_skipped_and_named_alike(shared_dir: Path, tmp_path: Path) -> None:
    data = bytearray((shared_dir / "corpus" / "evtx" / SAMPLE).read_bytes())
    starts = [m.start() for m in re.finditer(rb"\*\*\x00\x00", bytes(data))]
    for record in (5, 40):
        data[starts[record] + 24:starts[record] + 80] = b"\xff" * 56
    (tmp_path / "damaged.evtx").write_bytes(bytes(data))
    columnar, events = _both([tmp_path])
    assert columnar == events
    assert columnar[1].skipped == 2 and len(columnar[2]) == 2 and "#6: damaged record skipped" in columnar[2][0]


def test_events_of_other_collectors_join_the_same_batch(shared_dir: Path, tmp_path: Path) -> None:
    shutil.copy(shared_dir / "corpus" / "evtx" / SAMPLE, tmp_path / "a.evtx")
    (tmp_path / "b.xml").write_text(
        '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>'
        f'<Provider Name="{PROVIDER}"/><EventID>1</EventID><Computer>WS1</Computer></System>'
        '<EventData><Data Name="Image">C:\\x.exe</Data><Data Name="Custom">1</Data></EventData></Event>\n')
    shutil.copy(shared_dir / "corpus" / "evtx" / SAMPLE, tmp_path / "c.evtx")
    columnar, events = _both([tmp_path])
    assert columnar == events
    assert columnar[3] == [1061] and columnar[0]["extra_fields"][530] == [("Custom", "1")]


@pytest.mark.skipif(os.name == "nt", reason="a file name that is not UTF-8 needs a POSIX file system")
def test_a_file_name_arrow_cannot_hold_is_skipped_record_by_record(shared_dir: Path, tmp_path: Path) -> None:
    name = os.fsdecode(b"bad\xff.evtx")
    try:
        shutil.copy(shared_dir / "corpus" / "evtx" / SAMPLE, tmp_path / name)
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    columnar, events = _both([tmp_path])
    assert columnar == events
    assert columnar[1].skipped == 530 and columnar[1].events == 0 and "lone UTF-16 surrogate" in columnar[2][0]


# Drawn records: every JSON shape a value can take in a parsed record's EventData.
NAMES = st.sampled_from(["Image", "ProcessGuid", "ParentProcessGuid", "LogonGuid", "SourceProcessGUID",
                         "ProcessId", "Initiated", "RuleName", "Hashes", "Custom", "customguid", "#attributes"])
GUIDS = st.from_regex(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}", fullmatch=True)
SCALARS = st.one_of(st.text(max_size=8), GUIDS, GUIDS.map(lambda g: g + "\n"), GUIDS.map(lambda g: "{" + g + "}"),
                    st.integers(-(2**63), 2**64 - 1), st.booleans(), st.none(),  # serde's range: u64 overflows int64
                    st.floats(allow_nan=False, allow_infinity=False))
VALUES = st.one_of(SCALARS, st.fixed_dictionaries({"#text": SCALARS}), st.lists(SCALARS, max_size=2),
                   st.fixed_dictionaries({"#attributes": st.fixed_dictionaries({"Name": st.text(max_size=3)})}))
SYSTEM = st.fixed_dictionaries({"EventID": st.sampled_from([1, 3, 10]),
                                "Computer": st.one_of(st.none(), st.sampled_from(["WS1", "dc.corp"]))})
ODD_EVENT_DATA = st.one_of(st.none(), st.just({}), st.text(max_size=3), st.lists(SCALARS, max_size=2))


def _bodies(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Records of a few EventData shapes (names in drawn orders, so rows group), each with its own
    values: a group's column can mix every JSON type."""
    shapes = draw(st.lists(st.lists(NAMES, unique=True, max_size=5), min_size=1, max_size=3))
    bodies = []
    for _ in range(draw(st.integers(1, 25))):
        names = draw(st.sampled_from(shapes))
        data = draw(ODD_EVENT_DATA) if draw(st.integers(0, 9)) == 0 else {n: draw(VALUES) for n in names}
        bodies.append({"System": {"Provider": {"#attributes": {"Name": PROVIDER}}, **draw(SYSTEM)},
                       "EventData": data})
    return bodies


@settings(max_examples=300, deadline=None)
@given(st.composite(_bodies)())
def test_drawn_records_give_the_events_batch(bodies: list[dict[str, Any]]) -> None:
    rows, expected = [], []
    for record, body in enumerate(bodies):
        body = orjson.loads(orjson.dumps(body))  # as the collector sees it: parsed JSON
        origin = Origin("log.evtx", record=record)
        row = _row(body, record, origin.source)
        assert row is not None and len(row) == 1
        assert row.events() == [event_from_json(body, origin)[0]]
        rows.append(row)
        expected.extend(row.events())
    assert EvtxRows.to_batch(rows).to_pydict() == next(batches(expected)).to_pydict()


def test_unusual_system_shapes_take_the_event_path() -> None:
    for system in ({"EventID": {"#text": 1, "#attributes": {"Qualifiers": 0}}}, {"EventID": "1"},
                   {"EventID": True}, {"EventID": 1, "Computer": 7}, {"EventID": 65536}, {"EventID": -1}):
        body = {"System": {"Provider": {"#attributes": {"Name": PROVIDER}}, **system}, "EventData": {"Image": "x"}}
        assert _row(body, 1, "log.evtx") is None
    other = {"System": {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}}, "EventID": 4624}}
    assert _row(other, 1, "log.evtx") is None


# Record texts as the collector's hot loop sees them: the usual shape decoded by a typed decoder,
# every other one by the exact path. Odd System parts, other providers, text no JSON reader takes
# alike (big numbers, duplicate keys, deep nesting, damage) must give the same events and counts.
ODD_SYSTEM = st.fixed_dictionaries({}, optional={
    "EventID": st.one_of(st.sampled_from([1, 3]), st.booleans(), st.floats(allow_nan=False), st.text(max_size=2),
                         st.just({"#text": 1, "#attributes": {"Qualifiers": 0}}), st.integers(2**63, 2**70)),
    "Computer": st.one_of(st.none(), st.just("WS1"), st.integers(0, 9), st.just({"#text": "x"})),
    "Channel": st.one_of(st.none(), st.just("Security"), st.integers(0, 9), st.just({"#text": "Application"})),
    "Provider": st.one_of(st.just({"#attributes": {"Name": PROVIDER}}),
                          st.just({"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}}),
                          st.just({"#attributes": {"Name": 5}}), st.just({"#attributes": None}), st.none(),
                          st.just({}), st.just("x"))})
TEXT_EDITS = st.sampled_from([
    lambda text: text, lambda text: text[:-3], lambda text: text.replace("}}", "},\"Event\":5}", 1),
    lambda text: text.replace('"System":', '"System":{},"System":', 1),
    lambda text: text.replace('"EventData":', '"EventData":{"Image":"a"},"EventData":', 1),
    lambda text: text.replace('"EventData":{', '"EventData":{"Big":184467440737095516160,"Deep":' + "[" * 100_000
                              + "]" * 100_000 + ",", 1),
    lambda text: text.replace('"EventData":{', '"EventData":{"Big":-92233720368547758090,', 1),
    lambda text: text.replace('"Provider":', '"Junk":"\\ud800","Provider":', 1)])


@st.composite
def _record_texts(draw: st.DrawFn) -> list[dict[str, Any]]:
    records = []
    for number, body in enumerate(_bodies(draw), 1):
        if draw(st.booleans()):
            body["System"] = {**body["System"], **draw(ODD_SYSTEM)}
        if draw(st.integers(0, 9)) == 0:
            body = draw(st.sampled_from([{}, {"System": None}, {"System": []}, {"EventData": {"a": 1}}]))
        text = draw(TEXT_EDITS)(json.dumps({"Event": body}, separators=(",", ":")))  # any integer
        record_id = draw(st.sampled_from([number] * 8 + [None, 2**64 - 1]))  # none, or a damaged header's
        records.append({"event_record_id": record_id, "data": text})
    return records


KEPT = frozenset({"Image", "ProcessGuid", "ProcessId", "Initiated", "Custom"})  # a replay's fields (one unknown)


class _Parser:
    """Records as the parser hands them over: a RuntimeError in the list is raised in its place,
    and the parser goes on after it."""

    def __init__(self, records: list[Any]) -> None:
        self._left = iter(records)

    def __iter__(self) -> _Parser:
        return self

    def __next__(self) -> Any:
        record = next(self._left)
        if isinstance(record, RuntimeError):
            raise record
        return record


@settings(max_examples=200, deadline=None)
@given(_record_texts(), st.lists(st.integers(0, 30), max_size=3), st.sampled_from([1, 2, 3, 7, 2048]))
def test_the_hot_loop_reads_record_texts_as_the_exact_path(records: list[dict[str, Any]], errors: list[int],
                                                           chunk: int) -> None:
    """All the fields, and only those a replay reads (``columns``: the others left out, a JSON
    null in a kept one kept apart from an absent field): the same events, batch and counts.
    Records are taken from the parser ``chunk`` at a time; a parser error is counted in its
    place, named by its position among everything the parser gave."""
    from sysmon_rules.collectors import evtxfile
    from sysmon_rules.collectors.evtxfile import _Seen

    handed: list[Any] = list(records)
    for at in sorted(errors):
        handed.insert(min(at, len(handed)), RuntimeError("Failed to parse record\nhex dump"))
    failed = [f"log.evtx#{position}: damaged record skipped: Failed to parse record"
              for position, item in enumerate(handed, 1) if isinstance(item, RuntimeError)]
    found = []
    for rows, columns in ((True, None), (True, KEPT), (False, None)):
        warned: list[str] = []
        source = Source("log.evtx", warn=warned.append)
        source.columns = columns
        with patch.object(evtxfile, "_CHUNK", chunk):
            items = list(EvtxCollector()._records(source, _Parser(handed), rows, _Seen()))
        assert [w for w in warned if "Failed to parse" in w] == failed
        events = [e for item in items for e in (item.events() if isinstance(item, EvtxRows) else [item])]
        blocks = [i for i in items if isinstance(i, EvtxRows)]
        batch = EvtxRows.to_batch(blocks) if rows and blocks else None
        found.append((events, source.stats, warned, batch))
    (full, *counts), (projected, *projected_counts), (exact, *exact_counts) = found
    assert full == exact and counts[:2] == projected_counts[:2] == exact_counts[:2]
    kept = KEPT & set(field_names())

    def read(events: list[Event]) -> list[Event]:  # what the reader looks at (records of odd shapes stay events)
        return [Event.read(e.event_id, {n: v for n, v in e.fields.items() if n in kept}, e.origin) for e in events]

    assert read(projected) == read(exact)
    if counts[2] is not None:
        whole, part = counts[2].to_pydict(), projected_counts[2].to_pydict()
        kept_names = kept | (set(whole) - set(field_names()) - {"extra_fields"})  # and EventID, source...
        assert part == {name: values if name in kept_names else [None] * len(values) for name, values in whole.items()}


def test_a_record_nested_beyond_the_decoders_depth_is_skipped_and_counted() -> None:
    from sysmon_rules.collectors.evtxfile import _Seen

    nested = "[" * 100_000 + "]" * 100_000
    deep = json.dumps({"Event": {"System": {"Provider": {"#attributes": {"Name": PROVIDER}}, "EventID": 1},
                                 "EventData": {"Deep": 0}}}).replace('"Deep": 0', f'"Deep": {nested}')
    for rows in (True, False):
        warned: list[str] = []
        source = Source("log.evtx", warn=warned.append)
        assert list(EvtxCollector()._records(source, iter([{"event_record_id": 4, "data": deep}]), rows, _Seen())) == []
        assert source.stats.skipped == 1 and "log.evtx" in warned[0] and "RecursionError" in warned[0]
