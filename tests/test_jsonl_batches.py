"""JSON lines read a block at a time by Arrow equal the line-by-line reading: the same batches
(boundaries, dictionaries, every value), warnings and counts, for odd lines and the corpus."""

from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from unittest import mock

import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sysmon_rules.collectors import CollectorError, Source, jsonl_batches, lines
from sysmon_rules.collectors.arrow import UNENCODABLE, to_events
from sysmon_rules.collectors.jsonl import JsonlCollector
from test_collectors_evtx import corpus

_NAMES = ["Image", "User", "CommandLine", "UtcTime", "Hashes", "NotASysmonField", "Computer", "record"]
_TEXT = st.text(st.one_of(st.characters(blacklist_categories=["Cs"]),
                          st.sampled_from(["\\", '"', "\x00", "\n", "\u2028", "\ufeff", "\U0001f600", "é", "{", "}"])),
                max_size=6) | st.sampled_from(["null", ":null", "/dev/null", "x}\n{", ""])
_ODD_VALUE = st.one_of(st.integers(-2, 2), st.none(), st.booleans(), st.just([]), st.just({}), st.just(1.5))
_OBJECT = st.fixed_dictionaries(
    {"EventID": st.one_of(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30),
                          st.sampled_from([-1, 2**31, -(2**31) - 1, 2**63, "1", True, 1.0, None])),
     "fields": st.one_of(st.dictionaries(st.sampled_from(_NAMES), _TEXT, max_size=4),
                         st.dictionaries(st.sampled_from(_NAMES), _TEXT | _ODD_VALUE, max_size=3),
                         st.sampled_from([None, "x", []]))},
    optional={"record": st.one_of(st.integers(0, 10**6), st.sampled_from([-1, "8", None, 2**63, 1.5])),
              "Computer": st.sampled_from(["WS1", "ws2.corp", "", None, 5]),
              "event_id": st.just(1)})
# What our own tools write: the lines a block holds when Arrow reads it.
_CLEAN = st.fixed_dictionaries(
    {"EventID": st.integers(0, 30), "fields": st.dictionaries(st.sampled_from(_NAMES[:5]), _TEXT, max_size=4)},
    optional={"record": st.integers(0, 10**6), "Computer": st.sampled_from(["WS1", "ws2.corp", "\u00e9"])})
_RAW = st.sampled_from([
    b"", b"   ", b"{not json", b' {"EventID": 1, "fields": {}}',
    b'{"EventID": 1, "fields": {"Image": "a", "Image": "b"}}',
    b'{"EventID": 1, "fields": {"Image": "\\ud800"}}', b'{"EventID": 1, "fields": {"Image": "\\udc00x"}}',
    b'{"EventID": 1, "fields": {}} {"EventID": 2, "fields": {}}', b'{"EventID": 1, "fields": {"Image": "x"}}  ',
    b'{"EventID": 1, "fields": {"Image": "\xff"}}', b'{"EventID": 1, "fields": {"Image": "\xed\xa0\x80"}}',
    b'{"EventID": 1, "fields": {"Image": "a\tb"}}', b'{"EventID": 1, "fields": {"Image": "x"},}', b"[1]",
    b'{"EventID": 1, /* c */ "fields": {}}', b'{"EventID": 1, "fields":', b'{"Image": "a"}}', b"\xef\xbb\xbf",
    b'{"winlog": {"event_id": "1", "provider_name": "Microsoft-Windows-Sysmon", "event_data": {"Image": "a"}}}',
    b'{"EventID": 3, "SourceName": "Microsoft-Windows-Security-Auditing", "Image": "x"}',
    b'{"EventID": 1, "SourceName": "Microsoft-Windows-Sysmon", "Image": "C:\\\\cmd.exe", "Hostname": "h1"}',
    # values printed over many lines (their lines drawn apart, as pieces of a pretty value)
    b"{", b"}", b"[", b"]", b"Record 7", b'  "EventID": 1,', b'  "fields": {}', b"  {", b"  },",
    b'{"Event": {"System": {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}}, "EventID": 1}, '
    b'"EventData": {"ProcessGuid": "23F38D93-CEB4-5F8E-9F08-000000000C00"}}}',
    b'{"preview": false, "result": {"EventCode": "1", "SourceName": "Microsoft-Windows-Sysmon", "Image": "x"}}',
    b'[{"EventID": 1, "fields": {}}, {"EventID": 2, "fields": {"Image": "y"}}]',
])


@st.composite
def _line(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 12))
    if kind == 0:
        return draw(_RAW)
    if kind == 12:  # a value printed over many lines, or an array of records
        value = draw(st.one_of(_CLEAN, _OBJECT, st.lists(_CLEAN, max_size=4)))
        return json.dumps(value, indent=draw(st.sampled_from([1, 2, "\t"]))).encode("utf-8", "surrogatepass")
    obj = draw(_OBJECT if kind == 1 else _CLEAN)  # mostly clean lines, so that blocks are taken
    text = json.dumps(obj, ensure_ascii=draw(st.booleans()), separators=draw(st.sampled_from([None, (",", ":")])))
    return text.encode("utf-8", "surrogatepass")


@st.composite
def _document(draw: st.DrawFn) -> bytes:
    body = [draw(_line()) for _ in range(draw(st.integers(0, 24)))]
    ends = [draw(st.sampled_from([b"\n", b"\n", b"\n", b"\r\n"])) for _ in body]
    data = b"".join(line + end for line, end in zip(body, ends, strict=True))
    if draw(st.booleans()) and body:
        data = data.removesuffix(ends[-1])  # no newline at the end
    return (b"\xef\xbb\xbf" if draw(st.integers(0, 5)) == 0 else b"") + data + draw(st.sampled_from([b"", b"\n\n"]))


@contextmanager
def _line_by_line() -> Iterator[None]:
    """The reading with no block ever taken by Arrow: the line-by-line reading, as the reference."""
    with mock.patch.object(jsonl_batches, "parse_block", lambda data, count, names=None, **checked: None):
        yield


def _read(path: Path, rows: int | None, strict: bool) -> tuple[object, ...]:
    warnings: list[str] = []
    source = Source.from_arg(path, warn=warnings.append, strict=strict)
    try:
        batches = list(JsonlCollector().batches(source, rows))
    except CollectorError as exc:
        return "error", str(exc), warnings
    return batches, warnings, source.stats.skipped, dict(source.stats.other)


def _same(blocks: tuple[object, ...], line_by_line: tuple[object, ...]) -> None:
    assert blocks[1:] == line_by_line[1:]
    if blocks[0] == "error":
        assert line_by_line[0] == "error"
        return
    mine, theirs = blocks[0], line_by_line[0]
    assert isinstance(mine, list) and isinstance(theirs, list)
    assert [b.num_rows for b in mine] == [b.num_rows for b in theirs]  # the same boundaries
    for a, b in zip(mine, theirs, strict=True):
        assert a.schema == b.schema
        for name in a.schema.names:  # dictionaries in the same order, indices, nulls: all of it
            assert a.column(name).equals(b.column(name)), name


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(document=_document(), rows=st.sampled_from([1, 2, 3, 5, None]), block=st.sampled_from([60, 250, 1000, 1 << 20]),
       strict=st.booleans())
def test_blocks_read_by_arrow_equal_the_line_by_line_reading(tmp_path: Path, document: bytes, rows: int | None,
                                                             block: int, strict: bool) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(document)
    with mock.patch.object(jsonl_batches, "BLOCK_BYTES", block):
        fast = _read(path, rows, strict)
        with _line_by_line():
            slow = _read(path, rows, strict)
    _same(fast, slow)


def test_the_corpus_read_in_blocks_equals_the_line_by_line_reading(tmp_path: Path) -> None:
    events, _ = corpus()
    path = tmp_path / "corpus.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for n, e in enumerate(events):
            obj: dict[str, object] = {"EventID": e.event_id, "fields": dict(e.fields)}
            if e.origin is not None and e.origin.record is not None:
                obj["record"] = e.origin.record
            if e.origin is not None and e.origin.computer:
                obj["Computer"] = e.origin.computer
            out.write(json.dumps(obj, ensure_ascii=n % 2 == 0) + "\n")
    for rows, block in ((None, 1 << 20), (1000, 64 << 10)):
        with mock.patch.object(jsonl_batches, "BLOCK_BYTES", block):
            fast = _read(path, rows, False)
            with _line_by_line():
                slow = _read(path, rows, False)
        _same(fast, slow)
    batches = fast[0]
    assert isinstance(batches, list)
    got = [e for b in batches for e in to_events(b)]
    assert got == list(events)


def test_a_block_is_taken_only_when_every_line_is_canonical() -> None:
    good = b'{"EventID": 1, "fields": {"Image": "C:\\\\a.exe", "User": "S\\u00e9"}, "record": 4, "Computer": "W"}'
    table = jsonl_batches.parse_block(good + b"\n" + good, 2)
    assert table is not None and table.num_rows == 2
    assert table.column("fields").to_pylist()[0]["User"] == orjson.loads(good)["fields"]["User"]
    refused = [b'{"EventID": 1, "fields": {"Image": null}}', b'{"EventID": 1, "fields": {"Image": 5}}',
               b'{"EventID": 2147483648, "fields": {}}', b'{"EventID": 1, "record": -1, "fields": {}}',
               b'{"EventID": 1, "Computer": "", "fields": {}}', b'{"EventID": 1}', b'{"fields": {}}',
               b'{"EventID": 1, "fields": {"NotASysmonField": "x"}}', b'{"EventID": 1, "fields": {}, "x": 1}',
               b'{"EventID": 1, "fields": {"Image": "a", "Image": "b"}}', b' {"EventID": 1, "fields": {}}',
               b'{"EventID": 1, "fields": {}} ', b'{"EventID": 1, "fields": {}} {"EventID": 1, "fields": {}}',
               b'{"EventID": 1, "fields": {"Image": "\\ud800"}}', b'{"EventID": 1, "fields": {"Image": "\xc0\xaf"}}']
    for odd in refused:
        assert jsonl_batches.parse_block(good + b"\n" + odd + b"\n" + good + b"\n", 3) is None, odd
    text_null = b'{"EventID": 1, "fields": {"CommandLine": "x=null; 2>/dev/null"}}'
    assert jsonl_batches.parse_block(text_null, 1) is not None  # "null" in a text is no null
    # Lines not counted yet (a block of a file): the same answers, for a projection or not (one
    # reads past an unknown field among those it skips: the line-by-line reading keeps it unread).
    for names in (None, ("Image",)):
        for odd in refused if names is None else [r for r in refused if b"NotASysmonField" not in r]:
            assert jsonl_batches.parse_block(good + b"\n" + odd + b"\n" + good + b"\n", None, names) is None, odd
        for data, rows in ((good, 1), (good + b"\n" + good + b"\r\n" + good + b"\n", 3)):
            table = jsonl_batches.parse_block(data, None, names)
            assert table is not None and table.num_rows == rows
        # the edges of what the line-by-line reading takes: event ids 0-65535, a record id from 0
        for edge, taken in ((b'"EventID": 65535, "fields": {}', True), (b'"EventID": 65536, "fields": {}', False),
                            (b'"EventID": 0, "fields": {}, "record": 0', True),
                            (b'"EventID": 100000, "fields": {}', False),
                            (b'"EventID": 9, "fields": {}, "record": -0', True),  # JSON's -0 is 0
                            (b'"EventID": 9, "fields": {}, "Computer": "\\u0000"', True)):
            table = jsonl_batches.parse_block(good + b"\n{" + edge + b"}\n", None, names)
            assert (table is not None) is taken, edge


def _blocks(stream: BinaryIO, size: int) -> Iterator[lines.Block]:
    """The stream's chunks as the reader numbers them (``parsed``, which counts a chunk not
    counted yet by its table's rows, or by its newlines)."""
    return (block for block, _ in jsonl_batches.parsed(lines.chunks(stream, size)))


def _lines_of(blocks: Iterator[lines.Block]) -> list[tuple[int, bytes | None]]:
    out: list[tuple[int, bytes | None]] = []
    for block in blocks:
        out += [(block.first, None)] if block.data is None else list(block.lines())
    return out


class _Pipe(io.RawIOBase):
    """A pipe's bytes as its reads give them: a few at a time, each read whole; with ``fail``, the
    pipe breaks once that many bytes have come (the read after them fails, however the reader
    sized its reads: a failure is a place in the stream, not a count of reads)."""

    whole_reads = True

    def __init__(self, data: bytes, piece: int, fail: int | None = None) -> None:
        self.data, self.piece, self.left = data, piece, fail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        size = min(self.piece, len(buffer))
        if self.left is not None:
            if self.left <= 0 and self.data:  # (once at its end, a pipe stays there)
                raise OSError("the pipe broke")
            size = min(size, self.left)
            self.left -= min(size, len(self.data))
        part, self.data = self.data[:size], self.data[size:]
        buffer[:len(part)] = part
        return len(part)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.lists(st.sampled_from([b"a", b"\n", b"\r", b"bcd" * 5, b"x" * 30]), max_size=30).map(b"".join),
       size=st.integers(1, 40), piece=st.integers(1, 50))
def test_blocks_hold_the_lines_that_lines_yields(tmp_path: Path, data: bytes, size: int, piece: int) -> None:
    path = tmp_path / "lines.txt"
    path.write_bytes(data)
    with mock.patch.object(lines, "MAX_LINE", 40):
        expected = list(lines.lines(io.BytesIO(data)))
        with path.open("rb") as plain:  # a regular file: read in blocks of bytes
            assert _lines_of(_blocks(plain, size)) == expected
        assert _lines_of(_blocks(io.BytesIO(data), size)) == expected  # any other stream: by lines
        piped = io.BufferedReader(_Pipe(data, piece), buffer_size=16)  # type: ignore[type-var]
        assert _lines_of(_blocks(piped, size)) == expected  # a pipe: by its reads


@settings(max_examples=300, deadline=None)
@given(data=st.lists(st.sampled_from([b"a", b"\n", b"bcd" * 5]), max_size=30).map(b"".join),
       piece=st.integers(1, 20), fail=st.integers(0, 200))
def test_a_pipe_failing_midway_hands_over_the_lines_read_before(data: bytes, piece: int, fail: int) -> None:
    """The lines whole in the reads before the failing one, as the line-by-line reading gives them."""
    def read(chunked: bool) -> tuple[list[tuple[int, bytes | None]], bool]:
        stream = io.BufferedReader(_Pipe(data, piece, fail), buffer_size=16)  # type: ignore[type-var]
        got: list[tuple[int, bytes | None]] = []
        try:
            if chunked:
                for block in _blocks(stream, 1 << 20):
                    got += list(block.lines())
            else:
                got += lines.lines(stream)
        except OSError:
            return got, True
        return got, False

    assert read(chunked=True) == read(chunked=False)


def test_a_pipe_is_read_by_its_reads_a_decompressed_stream_by_lines() -> None:
    """Which streams ``lines.chunks`` reads by reads: those whose every read is an OS read."""
    from sysmon_rules.collectors.base import _OnceStream

    text = b'{"EventID": 1, "fields": {}}\n' * 3
    reading, writing = os.pipe()
    os.write(writing, text)
    os.close(writing)
    with open(reading, "rb", buffering=0) as pipe:
        once = _OnceStream(pipe)
        assert once.whole_reads
        assert [c.data for c in lines.chunks(io.BufferedReader(once), 1 << 20)] == [text]
    assert not _OnceStream(io.BytesIO(b"x")).whole_reads  # type: ignore[arg-type]
    assert not _OnceStream(gzip.GzipFile(fileobj=io.BytesIO(gzip.compress(b"x\n")))).whole_reads  # type: ignore[arg-type]


def test_a_stream_failing_midway_hands_over_what_was_read_before() -> None:
    class Failing(io.RawIOBase):
        def __init__(self) -> None:
            self.parts = [b"one\ntwo\nthr", b"ee\n"]

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            if not self.parts:
                raise EOFError("cut")
            part = self.parts.pop(0)
            buffer[:len(part)] = part
            return len(part)

    got: list[tuple[int, bytes | None]] = []
    with pytest.raises(EOFError):
        stream = io.BufferedReader(Failing())  # type: ignore[type-var]
        for block in _blocks(stream, 1 << 20):
            got += list(block.lines())
    assert got == [(1, b"one\n"), (2, b"two\n"), (3, b"three\n")]


def test_arrow_batches_are_the_documented_layout(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text('{"EventID": 1, "fields": {"Image": "a"}, "Computer": "W", "record": 3}\n' * 3)
    (batch,) = JsonlCollector().batches(Source.from_arg(path))
    from sysmon_rules.collectors.arrow import schema

    assert batch.schema == schema()
    assert batch.column("Image").type == pa.dictionary(pa.int32(), pa.string())
    assert batch.column("line").to_pylist() == [1, 2, 3]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(document=_document(), block=st.sampled_from([60, 250, 1 << 20]))
def test_batches_hold_the_events_of_the_event_reading(tmp_path: Path, document: bytes, block: int) -> None:
    """Lines of pretty-printed values and of many-record values included: the same events, warnings
    and counts as ``events()``."""
    path = tmp_path / "events.jsonl"
    path.write_bytes(document)
    seen: list[str] = []
    source = Source.from_arg(path, warn=seen.append)
    with mock.patch.object(jsonl_batches, "BLOCK_BYTES", block):
        batched = [(e.event_id, dict(e.fields), e.origin) for b in JsonlCollector().batches(source, 3)
                   for e in to_events(b)]
    assume(not any(UNENCODABLE in m for m in seen))  # Arrow holds no lone surrogate: damaged in batches only
    told: list[str] = []
    plain = Source.from_arg(path, warn=told.append)
    events = [(e.event_id, dict(e.fields), e.origin) for e in JsonlCollector().events(plain)]
    assert (batched, seen, source.stats.skipped, source.stats.other) == (events, told, plain.stats.skipped,
                                                                         plain.stats.other)
