"""A projected reading (only the fields a replay reads, ``Source.columns``) decides and counts
exactly as the line-by-line reading: same batch boundaries, the same values in every column it
keeps, the same warnings and damaged-record counts, the same decisions and summary, over the
corpus, the benchmark's mixed events and hostile lines whose oddities sit in the skipped fields."""

from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sysmon_rules import replay
from sysmon_rules.collectors import Source, jsonl_batches
from sysmon_rules.collectors.arrow import META, field_names
from sysmon_rules.collectors.base import LateColumns
from sysmon_rules.collectors.jsonl import JsonlCollector
from sysmon_rules.replaying import JsonLines
from test_collectors_evtx import corpus
from test_jsonl_batches import _document, _line_by_line

MODULAR = "corpus/configs/sysmon-modular/sysmonconfig.xml"
KEPT = frozenset({"Image", "UtcTime"})  # what a replay of a config filtering on Image reads
_VALID = '{"EventID": 1, "fields": {"Image": "C:\\\\x.exe", "UtcTime": "2024-01-01 10:00:00.000"%s}%s}'
# Oddities in fields the projection skips, or outside "fields": each changes what the line-by-line
# reading makes of the line (a damaged record, another host, another shape) or nothing it reads.
_HOSTILE = [', "LogonGuid": 5', ', "LogonGuid": null', ', "LogonGuid": true', ', "LogonGuid": ["a"]',
            ', "LogonGuid": {"a": "b"}', ', "LogonGuid": 1.5', ', "NotASysmonField": "x"', ', "NotASysmonField": 7',
            ', "LogonGuid": "a", "LogonGuid": "b"', ', "LogonGuid": 5, "LogonGuid": "b"',
            ', "CommandLine": "\\"q\\": 5, \\"x\\": null"', ', "Hashes": "\\\\"',
            ', "CommandLine": "a\\\\\\", \\"LogonGuid\\": 5"']
_TOP = ["", ', "record": 7', ', "Computer": "WS1"', ', "Hostname": "h2"', ', "winlog": {"event_id": 3}',
        ', "record": "8"', ', "Computer": 5', ', "event_id": 2', ', "record": 7, "Computer": "WS1"']


def _read(path: Path, columns: frozenset[str] | None, rows: int | None = None) -> tuple[Any, ...]:
    warnings: list[str] = []
    source = Source.from_arg(path, warn=warnings.append)
    source.columns = columns
    batches = list(JsonlCollector().batches(source, rows))
    return batches, warnings, source.stats.skipped, dict(source.stats.other)


def _same_kept(projected: tuple[Any, ...], full: tuple[Any, ...], kept: frozenset[str]) -> None:
    assert projected[1:] == full[1:]  # warnings, damaged records, other providers
    mine, theirs = projected[0], full[0]
    assert [b.num_rows for b in mine] == [b.num_rows for b in theirs]
    for a, b in zip(mine, theirs, strict=True):
        assert a.schema == b.schema
        for name in [*META, *sorted(kept & set(a.schema.names))]:
            assert a.column(name).equals(b.column(name)), name


@st.composite
def _hostile_document(draw: st.DrawFn) -> bytes:
    lines = [(_VALID % (draw(st.sampled_from(["", *_HOSTILE])), draw(st.sampled_from(_TOP)))).encode()
             for _ in range(draw(st.integers(1, 12)))]
    plain = [draw(_document())]
    return b"\n".join(lines) + b"\n" + plain[0]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(document=_hostile_document(), rows=st.sampled_from([1, 3, None]), block=st.sampled_from([90, 400, 1 << 20]),
       kept=st.sampled_from([KEPT, frozenset(), frozenset({"LogonGuid"}), frozenset({"Image", "NotASysmonField"})]))
def test_a_projected_reading_keeps_what_the_line_by_line_reading_gives(tmp_path: Path, document: bytes,
                                                                       rows: int | None, block: int,
                                                                       kept: frozenset[str]) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(document)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonl_batches, "BLOCK_BYTES", block)
        projected = _read(path, kept, rows)
        with _line_by_line():
            full = _read(path, None, rows)
    _same_kept(projected, full, kept)


def test_hostile_values_in_skipped_fields_send_the_block_to_the_full_reading() -> None:
    for hostile in _HOSTILE[:6]:  # not strings: the line-by-line reading calls the record damaged
        data = (_VALID % ("", "") + "\n" + _VALID % (hostile, "") + "\n").encode()
        assert jsonl_batches.parse_block(data, 2, ("Image", "UtcTime")) is None, hostile
    for top in (', "Hostname": "h2"', ', "winlog": {"event_id": 3}', ', "event_id": 2'):  # another host or shape
        data = (_VALID % ("", "") + "\n" + _VALID % ("", top) + "\n").encode()
        assert jsonl_batches.parse_block(data, 2, ("Image", "UtcTime")) is None, top
    strings = (_VALID % (', "LogonGuid": "a", "NotASysmonField": "x"', ', "record": 7') + "\n").encode()
    table = jsonl_batches.parse_block(strings, 1, ("Image", "UtcTime"))
    assert table is not None and table.column("fields").type.num_fields == 2  # read past the others


def test_columns_told_once_reading_began_read_as_columns_told_before(tmp_path: Path) -> None:
    """A replay reads while its configs load (``LateColumns``): a block submitted before the
    columns are told is checked, then waits for them; the batches are those of columns told first."""
    path = tmp_path / "events.jsonl"
    hostile = [_VALID % (h, t) for h in ["", *_HOSTILE] for t in _TOP[:4]]
    path.write_text("".join(line + "\n" for line in hostile * 3 + [_VALID % ("", "")] * 40), encoding="utf-8")
    late = LateColumns()
    waited: list[int] = []
    parse = jsonl_batches.parse_block

    def told_while_parsing(data: bytes, count: int, names: Any = None, **checked: Any) -> Any:
        if callable(names):
            waited.append(count)
            late.tell(KEPT)  # told now: after the block was handed to the parsing
        return parse(data, count, names, **checked)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonl_batches, "BLOCK_BYTES", 700)
        patch.setattr(jsonl_batches, "parse_block", told_while_parsing)
        told_late = _read(path, late, 5)  # type: ignore[arg-type]
        told_first = _read(path, KEPT, 5)
    assert waited
    assert told_late[1:] == told_first[1:]
    assert [b.num_rows for b in told_late[0]] == [b.num_rows for b in told_first[0]]
    for a, b in zip(told_late[0], told_first[0], strict=True):
        assert a.equals(b)


def test_blocks_read_ahead_while_the_columns_are_late_read_as_columns_told_before(tmp_path: Path) -> None:
    """Until the columns are told, ``EARLY_BLOCKS`` blocks are read and checked ahead (their
    shape found on the reading thread, the workers waiting); told then, the batches are those of
    columns told first."""
    path = tmp_path / "events.jsonl"
    hostile = [_VALID % (h, t) for h in ["", *_HOSTILE] for t in _TOP[:4]]
    path.write_text("".join(line + "\n" for line in [_VALID % ("", "")] * 100 + hostile * 2), encoding="utf-8")
    late = LateColumns()
    shapes: list[jsonl_batches.Shape] = []
    check = jsonl_batches.shape

    def told_after_early_blocks(data: bytes, projected: bool) -> jsonl_batches.Shape:
        shapes.append(check(data, projected))
        if len(shapes) == jsonl_batches.EARLY_BLOCKS + 1:  # the reading waits for the first block after this one
            late.tell(KEPT)
        return shapes[-1]

    rescue = threading.Timer(30, late.tell, (frozenset({"rescued"}),))  # were fewer blocks read ahead
    rescue.start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(jsonl_batches, "BLOCK_BYTES", 700)
            patch.setattr(jsonl_batches, "shape", told_after_early_blocks)
            told_late = _read(path, late, 5)  # type: ignore[arg-type]
            early = shapes[:jsonl_batches.EARLY_BLOCKS + 1]
            told_first = _read(path, KEPT, 5)
    finally:
        rescue.cancel()
    assert late.names == KEPT
    assert early == [jsonl_batches.Shape.PLAIN] * (jsonl_batches.EARLY_BLOCKS + 1)
    assert told_late[1:] == told_first[1:]
    assert [b.num_rows for b in told_late[0]] == [b.num_rows for b in told_first[0]]
    for a, b in zip(told_late[0], told_first[0], strict=True):
        assert a.equals(b)


def _replayed(config: str, path: Path) -> tuple[str, dict[str, Any], list[str]]:
    rows: list[str] = []
    warnings: list[str] = []
    result = replay(config, [path], sink=JsonLines(rows.append), warn=warnings.append)
    return "".join(rows), result.to_dict(), warnings


def _differential(config: str, path: Path) -> None:
    narrow: list[int] = []  # blocks read with a projection: the path under test was taken
    parse = jsonl_batches.parse_block

    def spy(data: bytes, count: int, names: Any = None, **checked: Any) -> Any:
        table = parse(data, count, names, **checked)
        if table is not None and table.column("fields").type.num_fields < len(field_names()):
            narrow.append(count)
        return table

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonl_batches, "parse_block", spy)
        projected = _replayed(config, path)
    assert narrow
    with _line_by_line():
        full = _replayed(config, path)
    assert projected == full
    assert projected[0].count("\n") > 0


def _mixed_lines(config: Path, count: int) -> list[str]:
    bench = Path(__file__).resolve().parent.parent / "benchmarks" / "mixed_events.py"
    spec = importlib.util.spec_from_file_location("mixed_events", bench)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    events, _ = corpus()
    lines: list[str] = module.mixed_lines(config, list(events), count)
    return lines


def test_replay_of_the_corpus_and_mixed_events_decides_as_the_line_by_line_reading(shared_dir: Path,
                                                                                  tmp_path: Path) -> None:
    config = shared_dir / MODULAR
    if not config.exists():
        pytest.skip("sysmon-modular's config is not in the corpus")
    events, _ = corpus()
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps({"EventID": e.event_id, "fields": dict(e.fields),
                                        "record": e.origin.record if e.origin else None}) + "\n" for e in events)
                    .replace(', "record": null', ""), encoding="utf-8")
    _differential(str(config), path)
    mixed = tmp_path / "mixed.jsonl"
    lines = _mixed_lines(config, 50 * 52)
    # and hostile lines among them, their oddities in fields no filter of the config reads
    odd = [_VALID % (hostile, top) for hostile in _HOSTILE for top in _TOP[:4]]
    spread = [line for at, line in enumerate(lines) for line in ([line, odd[at // 50]] if at % 50 == 0 else [line])]
    mixed.write_text("\n".join(spread) + "\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonl_batches, "BLOCK_BYTES", 64 << 10)  # blocks without odd lines are projected
        _differential(str(config), mixed)
