"""The entry-point registry: built-ins and a third-party collector found the same way."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from sysmon_rules.cli import main
from sysmon_rules.collectors import Collector, CollectorError, CollectorWarning, available, get, read
from sysmon_rules.inputfiles import NoInputError

PLUGINS = Path(__file__).parent / "plugins"


@pytest.fixture
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``sysmon_csv`` installed as pip would: a dist-info with its entry point, on sys.path."""
    info = tmp_path / "sysmon_csv-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sysmon-csv\nVersion: 0.1\n", "utf-8")
    (info / "entry_points.txt").write_text("[sysmon_rules.collectors]\ncsv = sysmon_csv:CsvCollector\n", "utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(PLUGINS))
    yield tmp_path
    sys.modules.pop("sysmon_csv", None)


def test_builtins_register_through_the_entry_point_group() -> None:
    collectors = available()
    assert list(collectors)[:3] == ["evtx", "jsonl", "xml"]
    assert all(isinstance(c, Collector) and c.name == n for n, c in collectors.items())


def test_unknown_collector_lists_the_available_ones() -> None:
    with pytest.raises(CollectorError, match=r"unknown collector 'nope' \(available: evtx, jsonl, xml"):
        get("nope")


def test_third_party_collector_is_found_and_used(third_party: Path, tmp_path: Path) -> None:
    assert "csv" in available()
    data = tmp_path / "events.csv"
    data.write_text("EventID,Image\n1,C:\\Windows\\System32\\cmd.exe\nx,C:\\bad\n5,C:\\a.exe\n", "utf-8")
    stream = read(data)  # recognised by its content, through the plugin
    with pytest.warns(CollectorWarning, match=r"events.csv:3: damaged record skipped: EventID 'x'"):
        events = list(stream)
    assert stream.files == [(str(data), "csv")]
    assert [(e.event_id, dict(e.fields), e.origin.line if e.origin else 0) for e in events] == [
        (1, {"Image": "C:\\Windows\\System32\\cmd.exe"}, 2), (5, {"Image": "C:\\a.exe"}, 4)]
    assert stream.stats.skipped == 1
    config = tmp_path / "c.xml"
    config.write_text('<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="include">'
                      '<Image name="shell" condition="end with">\\cmd.exe</Image></ProcessCreate>'
                      '</EventFiltering></Sysmon>', "utf-8")
    result = CliRunner().invoke(main, ["evaluate", str(config), str(data), "--collector", "csv", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert '"decision": "include", "rule_name": "shell"' in result.stdout.splitlines()[0]


def test_unrecognised_input_is_an_error_naming_it(tmp_path: Path) -> None:
    odd = tmp_path / "notes.txt"
    odd.write_text("hello\n", "utf-8")
    with pytest.raises(CollectorError, match=r"notes\.txt: cannot tell the format; give --collector"):
        list(read(odd))


@pytest.mark.parametrize("content", [b"", b"\r\n\n", b"\xef\xbb\xbf\r\n", b"\xff\xfe"])
def test_an_empty_input_is_no_input_not_an_unknown_format(tmp_path: Path, content: bytes) -> None:
    """An empty capture (or one of blank lines, a BOM alone) is said to be empty, not a format to name."""
    empty = tmp_path / "capture.jsonl"
    empty.write_bytes(content)
    with pytest.raises(NoInputError, match=r"capture\.jsonl: empty: no record in it"):
        list(read(empty))


def test_a_broken_plugin_is_reported_and_the_rest_still_work(third_party: Path) -> None:
    info = third_party / "sysmon_csv-0.1.dist-info" / "entry_points.txt"
    info.write_text("[sysmon_rules.collectors]\ncsv = sysmon_csv:CsvCollector\nbad = sysmon_csv:Missing\n", "utf-8")
    with pytest.warns(CollectorWarning, match="collector 'bad' .* cannot be loaded"):
        names = list(available())
    assert names == ["evtx", "jsonl", "xml", "parquet", "csv"]
