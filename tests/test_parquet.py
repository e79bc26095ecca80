"""Arrow and Parquet end to end: the layout round-trips real events, the Parquet collector and
`evaluate --format parquet` agree with the event-by-event path, JSON lines batches equal events."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import sysmon_rules as sr
from sysmon_rules.cli import main
from sysmon_rules.collectors import CollectorError, Source, read
from sysmon_rules.collectors.arrow import encodable, schema, to_batch, to_events
from sysmon_rules.collectors.jsonl import JsonlCollector
from sysmon_rules.collectors.parquet import write_parquet
from sysmon_rules.events import Event, Origin
from test_collectors_evtx import corpus

MODULAR = "corpus/configs/sysmon-modular/sysmonconfig.xml"
SWIFT = "corpus/configs/swiftonsecurity/sysmonconfig-export.xml"


def _origin(e: Event) -> tuple[object, ...]:
    o = e.origin or Origin("")
    return o.source, o.record, o.line, o.computer


@pytest.fixture(scope="module")
def corpus_parquet(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Path:
    events, _ = corpus()
    path = tmp_path_factory.mktemp("pq") / "corpus.parquet"
    write_parquet(path, (to_batch(events[start:start + 1000]) for start in range(0, len(events), 1000)))
    return path  # four row groups


def test_the_layout_round_trips_every_corpus_event(corpus_parquet: Path) -> None:
    events, _ = corpus()
    assert pq.ParquetFile(corpus_parquet).metadata.num_row_groups == 4
    assert pq.read_schema(corpus_parquet).remove_metadata() == schema()
    back = list(read(corpus_parquet))
    assert back == list(events)  # ids and every field
    assert [_origin(e) for e in back] == [_origin(e) for e in events]  # file, record id and host too
    assert any(e.origin and e.origin.computer for e in back)


def test_extra_fields_and_empty_batches_survive() -> None:
    # as a log may hold it (Event.read): a name Sysmon never had for the id is carried along
    odd = [Event.read(1, {"Image": "x", "NotASysmonField": "kept"}, Origin("s", 1, None, None)), Event(3, {})]
    assert list(to_events(to_batch(odd))) == odd
    assert to_batch([]).num_rows == 0


def _json(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(main, ["evaluate", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


def test_evaluate_parquet_reports_what_evaluate_evtx_reports(shared_dir: Path, corpus_parquet: Path) -> None:
    config = str(shared_dir / MODULAR)
    from_evtx = _json(config, str(shared_dir / "corpus" / "evtx"), "--budget", "10")
    from_parquet = _json(config, str(corpus_parquet), "--budget", "10")
    for doc in (from_evtx, from_parquet):
        for key in ("files", "unread", "other_records"):
            doc.pop(key)
    assert from_parquet == from_evtx


def test_format_parquet_writes_decisions_beside_the_input(shared_dir: Path, corpus_parquet: Path,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "decided.parquet"
    result = CliRunner().invoke(main, ["evaluate", str(shared_dir / MODULAR), str(corpus_parquet),
                                       "--compare", str(shared_dir / SWIFT), "--format", "parquet", "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    events, _ = corpus()
    mine, theirs = (sr.Evaluator(sr.load(shared_dir / c)) for c in (MODULAR, SWIFT))
    assert table.column("decision").to_pylist() == [mine.decide(e).decision for e in events]
    assert table.column("rule_name").to_pylist() == [mine.decide(e).rule_name for e in events]
    assert table.column("compare_decision").to_pylist() == [theirs.decide(e).decision for e in events]
    assert table.column("compare_rule_name").to_pylist() == [theirs.decide(e).rule_name for e in events]
    assert table.select(schema().names).to_pylist() == pq.read_table(corpus_parquet).to_pylist()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decided.parquet"]  # no temp file left
    empty, nothing = tmp_path / "none.jsonl", tmp_path / "nothing.parquet"
    empty.write_text("")
    done = subprocess.run([sys.executable, "-c", "from sysmon_rules.cli import run; run()", "evaluate",
                           str(shared_dir / MODULAR), str(empty), "--collector", "jsonl", "--format", "parquet",
                           "-o", str(nothing)], capture_output=True, text=True, check=False)
    # no event is no answer: an error, and no file that looks like a result
    assert done.returncode == 2 and done.stderr == f"{empty}: error[no-input]: no Sysmon event read (no record)\n"
    assert not nothing.exists()


def test_format_parquet_needs_an_output_file(shared_dir: Path, corpus_parquet: Path) -> None:
    result = CliRunner().invoke(main, ["evaluate", str(shared_dir / MODULAR), str(corpus_parquet),
                                       "--format", "parquet"])
    assert result.exit_code == 2 and "needs -o" in result.output


def test_a_foreign_parquet_file_with_few_columns(tmp_path: Path) -> None:
    path = tmp_path / "siem.parquet"
    pq.write_table(pa.table({"EventID": pa.array([1, 1, 3], pa.int64()),
                             "Image": [r"C:\Windows\System32\cmd.exe", r"C:\x.exe", None],
                             "DestinationPort": [None, None, 3389], "host.name": ["a", "b", "c"]}), path)
    events = list(read(path))
    assert [(e.event_id, dict(e.fields)) for e in events] == [
        (1, {"Image": r"C:\Windows\System32\cmd.exe"}), (1, {"Image": r"C:\x.exe"}), (3, {"DestinationPort": "3389"})]
    assert {e.origin.source for e in events if e.origin} == {str(path)}
    bad = tmp_path / "no-ids.parquet"
    pq.write_table(pa.table({"Image": ["x"]}), bad)
    with pytest.raises(CollectorError, match="needs an 'EventID' column"):
        list(read(bad))


def test_jsonl_output_in_batches_equals_event_by_event(shared_dir: Path, tmp_path: Path) -> None:
    from sysmon_rules.replaying.rows import event_line

    events, _ = corpus()
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps({"EventID": e.event_id, "fields": dict(e.fields)}) + "\n" for e in events))
    result = CliRunner().invoke(main, ["evaluate", str(shared_dir / MODULAR), str(path), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    evaluator = sr.Evaluator(sr.load(shared_dir / MODULAR))
    expected = [json.dumps(event_line(e, evaluator.decide(e), None, None), ensure_ascii=False)
                for e in read(path)]
    assert result.stdout.splitlines() == expected


_values = st.one_of(st.text(max_size=5), st.integers(-3, 3), st.booleans(), st.none())
_lines = st.one_of(
    st.builds(lambda i, f, r, c: json.dumps({"EventID": i, "fields": f, **r, **c}),
              st.one_of(st.integers(0, 30), st.just("1"), st.just(True)),
              st.dictionaries(st.sampled_from(["Image", "User", "Odd"]), st.one_of(st.text(max_size=4), _values),
                              max_size=3),
              st.sampled_from([{}, {"record": 7}, {"record": "8"}, {"record": -1}]),
              st.sampled_from([{}, {"Computer": "WS1"}, {"Computer": ""}, {"Computer": 5}])),
    st.builds(lambda i: json.dumps({"winlog": {"event_id": str(i), "provider_name": "Microsoft-Windows-Sysmon",
                                               "computer_name": "H", "event_data": {"Image": "a"}}}),
              st.integers(1, 5)),
    st.just('{"EventID": 1, "fields": {"Image": "\\ud800"}}'), st.just(""), st.just("{not json"))


@settings(max_examples=150, deadline=None)
@given(st.lists(_lines, max_size=12), st.booleans(), st.integers(1, 4))
def test_jsonl_batches_equal_the_events(tmp_path_factory: pytest.TempPathFactory, lines: list[str], newline: bool,
                                        rows: int) -> None:
    path = tmp_path_factory.mktemp("j") / "e.jsonl"
    path.write_text("\n".join(lines) + ("\n" if newline else ""), encoding="utf-8")

    def collect(how: str) -> tuple[object, ...]:
        source = Source.from_arg(path, warn=lambda message: None)
        try:
            if how == "events":
                got = list(JsonlCollector().events(source))
            else:
                got = [e for b in JsonlCollector().batches(source, rows) for e in to_events(b)]
        except CollectorError as exc:
            return ("error", str(exc))
        skipped = source.stats.skipped
        if how == "events":  # batches leave out, as damaged, what UTF-8 cannot hold
            skipped += sum(not encodable(e) for e in got)
            got = [e for e in got if encodable(e)]
        return [(e, _origin(e)) for e in got], skipped, dict(source.stats.other)

    assert collect("batches") == collect("events")


def test_fsspec_urls_read_as_local_paths_do(shared_dir: Path, corpus_parquet: Path) -> None:
    folder = shared_dir / "corpus" / "evtx" / "Credential Access"
    local, remote = read(folder), read(f"file://{folder}")  # the fsspec code path, as for s3:// or gs://
    assert list(remote) == list(local)
    assert [name for name, _ in remote.files] == [f"file://{name}" for name, _ in local.files]
    assert list(read(f"file://{corpus_parquet}")) == list(read(corpus_parquet))
    with pytest.raises(CollectorError, match=r"nope\.evtx: cannot read"):
        list(read(f"file://{folder}/nope.evtx"))
