"""An event id is 16 bits: a record whose id is outside 0-65535 is damaged, in every collector,
skipped and counted (an error under --strict), never an internal error."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import sysmon_rules as sr
from sysmon_rules.cli import main
from sysmon_rules.collectors import EventStream

OUTSIDE = [-1, 65536, 2**31, 2**40]


def _evaluate(project_root: Path, events: Path, *extra: str) -> tuple[int, list[dict[str, object]], str]:
    config = project_root / "examples" / "sysmonconfig.xml"
    run = CliRunner().invoke(main, ["evaluate", str(config), str(events), "--format", "jsonl", *extra])
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    # an error escapes CliRunner as the exception that `sysmon-rules` prints in one line
    error = str(run.exception) if isinstance(run.exception, sr.SysmonRulesError) else ""
    assert run.exception is None or error, run.exception
    return run.exit_code, lines, run.stderr + error


@pytest.mark.parametrize("rows", [1, 3, 5000])  # one line, a few, and enough for the block reader
def test_json_lines_with_ids_outside_are_skipped_and_counted(tmp_path: Path, project_root: Path, rows: int) -> None:
    good = [{"EventID": 1, "fields": {"Image": f"C:\\x{n}.exe"}} for n in range(rows)]
    lines = [json.dumps(o) for o in good] + [json.dumps({"EventID": i, "fields": {}}) for i in OUTSIDE]
    events = tmp_path / "e.jsonl"
    events.write_text("\n".join(lines) + "\n", "utf-8")
    code, decided, err = _evaluate(project_root, events)
    assert code == 0 and len(decided) == rows and f"{len(OUTSIDE)} damaged record(s) skipped" in err
    assert f'{events}:{rows + 2}: damaged record skipped: "EventID" 65536 is outside 0-65535' in err
    strict, _, said = _evaluate(project_root, events, "--strict")
    assert strict == 1 and f"{events}:{rows + 1}: damaged record" in said and "internal error" not in said


def test_event_xml_with_an_id_outside_is_skipped(tmp_path: Path) -> None:
    ns = "http://schemas.microsoft.com/win/2004/08/events/event"
    records = "".join(f'<Event xmlns="{ns}"><System><Provider Name="Microsoft-Windows-Sysmon"/><EventID>{i}'
                      f'</EventID></System><EventData><Data Name="Image">x</Data></EventData></Event>'
                      for i in (1, 70000))
    path = tmp_path / "e.xml"
    path.write_text(f"<Events>{records}</Events>", "utf-8")
    said: list[str] = []
    stream = EventStream([path], warn=said.append)
    assert [e.event_id for e in stream] == [1] and stream.stats.skipped == 1
    assert "event id 70000 is outside 0-65535" in said[0]


def test_parquet_rows_with_ids_outside_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "e.parquet"  # int64 ids, as pandas writes them
    pq.write_table(pa.table({"EventID": pa.array([1, 2**40, None, 3, -2], pa.int64()),
                             "Image": ["a", "b", "c", "d", "e"]}), path)
    said: list[str] = []
    stream = EventStream([path], warn=said.append)
    assert [(e.event_id, e.fields["Image"]) for e in stream] == [(1, "a"), (3, "d")]
    assert stream.stats.skipped == 3 and len(said) == 3 and "row 1: EventID 1099511627776" in said[0]
    odd = tmp_path / "odd.parquet"
    pq.write_table(pa.table({"EventID": ["1", "x"]}), odd)
    with pytest.raises(sr.SysmonRulesError, match=r"odd\.parquet: column 'EventID' holds string"):
        list(EventStream([odd]))


def test_an_event_made_in_code_with_an_id_outside_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="outside 0-65535"):
        sr.Event(65536, {})
    assert sr.Event(65535, {}).event_id == 65535


def test_a_record_id_beyond_int64_is_a_damaged_record(tmp_path: Path, project_root: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text(json.dumps({"EventID": 1, "fields": {}, "record": 2**63}) + "\n"
                      + json.dumps({"EventID": 1, "fields": {}, "record": 2**63 - 1}) + "\n", "utf-8")
    code, decided, err = _evaluate(project_root, events)
    assert code == 0 and [d["record"] for d in decided] == [2**63 - 1]
    assert f'{events}:1: damaged record skipped: "record" {2**63} is too large for a record id' in err
