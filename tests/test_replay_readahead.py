"""Reading ahead on a thread hands over batches, warnings and errors exactly in reading order."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import sysmon_rules as sr
from sysmon_rules.collectors import CollectorError
from sysmon_rules.collectors.arrow import to_batch
from sysmon_rules.replaying.readahead import ReadAhead
from test_collectors_evtx import corpus


def _batch(n: int) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({"n": [n]})


def test_warnings_batches_and_the_error_come_out_in_reading_order() -> None:
    told: list[object] = []
    ahead = ReadAhead(lambda message: told.append(("warning", message, threading.current_thread().name)))
    main = threading.current_thread().name

    def reading() -> Iterator[pa.RecordBatch]:
        ahead.warn("before the first")
        yield _batch(1)
        ahead.warn("a")
        ahead.warn("b")
        yield _batch(2)
        ahead.warn("before the failure")
        raise CollectorError("x.jsonl:9: damaged record")

    ahead.start(reading())
    with pytest.raises(CollectorError, match=r"x\.jsonl:9"):
        for batch in ahead:
            told.append(("batch", batch.column("n")[0].as_py()))
    assert told == [("warning", "before the first", main), ("batch", 1), ("warning", "a", main),
                    ("warning", "b", main), ("batch", 2), ("warning", "before the failure", main)]


def test_warnings_after_the_last_batch_and_many_warnings_are_all_told() -> None:
    told: list[str] = []
    ahead = ReadAhead(told.append)
    many = [f"line {n}" for n in range(2500)]

    def reading() -> Iterator[pa.RecordBatch]:
        for message in many:  # more than one parcel: handed over while reading goes on
            ahead.warn(message)
        yield _batch(1)
        ahead.warn("no Sysmon events in y.evtx")

    assert [b.num_rows for b in ahead.start(reading())] == [1]
    assert told == [*many, "no Sysmon events in y.evtx"]


def test_reading_runs_on_its_own_thread_one_batch_ahead() -> None:
    threads: list[str] = []
    produced: list[int] = []
    release = threading.Event()

    def reading() -> Iterator[pa.RecordBatch]:
        for n in range(5):
            threads.append(threading.current_thread().name)
            produced.append(n)
            yield _batch(n)
        release.set()

    ahead = ReadAhead(lambda message: None).start(reading())
    consumed = [next(iter(ahead)).column("n")[0].as_py()]
    assert consumed == [0]
    assert len(produced) <= 3  # the one handed over, one waiting, one being read: never all of them
    consumed += [b.column("n")[0].as_py() for b in ahead]
    assert consumed == [0, 1, 2, 3, 4] and release.is_set()
    assert set(threads) == {"sysmon-rules read-ahead"}


def test_spare_work_runs_only_while_no_batch_is_waiting() -> None:
    go = threading.Event()
    steps: list[int] = []

    def reading() -> Iterator[pa.RecordBatch]:
        go.wait(10)
        yield _batch(1)

    def spare() -> Iterator[int]:
        for n in range(100):
            steps.append(n)
            if n == 3:
                go.set()  # the batch is read from now on
            time.sleep(0.01)
            yield n

    ahead = ReadAhead(lambda message: None).start(reading()).meanwhile(spare())
    assert [b.num_rows for b in ahead] == [1]
    assert 4 <= len(steps) < 50  # it started waiting, and stopped once the batch was there


def test_an_evaluator_prepared_for_batches_decides_them_alike(shared_dir: Path) -> None:
    events, _ = corpus()
    config = sr.load(shared_dir / "corpus/configs/sysmon-modular/sysmonconfig.xml")
    prepared, plain = sr.Evaluator(config), sr.Evaluator(config)
    ids = list(prepared.prepare_batches())
    assert ids and set(ids) <= set(prepared._schema.events_by_id)
    batch = to_batch(events)
    assert prepared.decide_batch(batch).equals(plain.decide_batch(batch))


def test_evaluate_leaves_reading_to_forked_workers_when_the_stream_forks(shared_dir: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from sysmon_rules.cli import main
    from sysmon_rules.collectors import forked

    forks: list[int] = []
    fork = forked.batches

    def counted(*args: Any, **kwargs: Any) -> Iterator[pa.RecordBatch]:
        forks.append(1)
        return fork(*args, **kwargs)

    monkeypatch.setattr(forked, "batches", counted)
    # Threads other tests left in this process would stop the fork too: count only the reading one.
    monkeypatch.setattr(forked.threading, "active_count", lambda: 1 + len(_reading_threads(wait=False)))
    args = ["evaluate", str(shared_dir / "corpus/configs/sysmon-modular/sysmonconfig.xml"),
            str(shared_dir / "corpus" / "evtx"), "--format", "jsonl"]
    monkeypatch.setattr(forked, "PARALLEL_BYTES", 1)  # the corpus counts as big enough to fork for
    in_workers = CliRunner().invoke(main, args)
    assert in_workers.exit_code == 0, in_workers.output
    assert forks  # no read-ahead thread was started first: it would have stopped the fork
    monkeypatch.setattr(forked, "PARALLEL_BYTES", 1 << 60)
    here = CliRunner().invoke(main, args)
    assert len(forks) == 1 and here.stdout == in_workers.stdout


def _reading_threads(wait: bool = True) -> list[threading.Thread]:
    """The read-ahead threads still running (after up to 5 s for them to end, with ``wait``)."""
    deadline = time.monotonic() + (5 if wait else 0)
    while True:
        left = [t for t in threading.enumerate() if t.name == "sysmon-rules read-ahead"]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.02)


def test_a_consumer_that_stops_early_stops_the_reading() -> None:
    closed = threading.Event()

    def reading() -> Iterator[pa.RecordBatch]:
        try:
            for n in range(100):
                yield _batch(n)
        finally:
            closed.set()  # the reader's generator is closed, its files and threads released

    with ReadAhead(lambda message: None).start(reading()) as ahead:
        assert next(iter(ahead)).num_rows == 1
    assert closed.wait(5)
    assert _reading_threads() == []


def test_a_failed_run_leaves_no_reading_thread_behind(shared_dir: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sysmon_rules.cli import main

    bad = tmp_path / "bad.xml"
    bad.write_text('<Sysmon schemaversion="4.90"><Bad/></Sysmon>')
    events = tmp_path / "events.jsonl"
    events.write_text('{"EventID": 1, "fields": {"Image": "a"}}\n' * 200_000)  # more than one batch
    result = CliRunner().invoke(main, ["evaluate", str(bad), str(events), "--format", "jsonl"])
    assert result.exit_code == 2 and "unexpected-element" in result.output
    assert _reading_threads() == []


def test_a_batch_is_read_only_once_the_consumer_took_the_one_before() -> None:
    # Two batches in memory at most (the one decided, the one read meanwhile), whatever the input size.
    read: list[int] = []

    def reading() -> Iterator[pa.RecordBatch]:
        for n in range(5):
            read.append(n)
            yield _batch(n)

    ahead = ReadAhead(lambda message: None).start(reading())
    taken = []
    for batch in ahead:
        time.sleep(0.05)  # a slow consumer: the reader waits, it does not run ahead
        taken.append(batch.column("n")[0].as_py())
        assert len(read) <= len(taken) + 1
    assert taken == read == [0, 1, 2, 3, 4]


def test_the_switch_interval_is_short_while_reading_and_put_back_after() -> None:
    # A reading thread back from Arrow gets the GIL within the interval, not 5 ms later.
    before = sys.getswitchinterval()
    seen: list[float] = []

    def reading() -> Iterator[pa.RecordBatch]:
        seen.append(sys.getswitchinterval())
        yield _batch(0)

    with ReadAhead(lambda message: None).start(reading()) as ahead:
        assert [b.num_rows for b in ahead] == [1]
    assert _reading_threads() == []  # the interval is put back as the thread ends
    assert seen[0] < before and seen[0] <= 0.001
    assert sys.getswitchinterval() == before
