"""Reading in forked workers (``collectors.forked``) against the single-process read it must equal."""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from sysmon_rules.collectors import CollectorError, EventStream, forked

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="workers are forked: Linux only")

SMALL = ["UACME_59_Sysmon.evtx", "Defense Evasion/DE_UAC_Disabled_Sysmon_12_13.evtx",
         "Defense Evasion/faxhell_sysmon_7_1_18_3_bindshell_dllhijack.evtx",
         "Credential Access/ppl_bypass_ppldump_knowdll_hijack_sysmon_security.evtx",  # Security records too
         "Privilege Escalation/Sysmon_UACME_64.evtx"]


@pytest.fixture
def folder(shared_dir: Path, tmp_path: Path) -> Path:
    """Real files, a damaged copy, a file nothing reads, and one of Security records only."""
    corpus = shared_dir / "corpus" / "evtx"
    for number, name in enumerate(SMALL):
        shutil.copy(corpus / name, tmp_path / f"{number}.evtx")
    data = bytearray((corpus / SMALL[-1]).read_bytes())
    starts = [m.start() for m in re.finditer(rb"\*\*\x00\x00", bytes(data))]
    data[starts[5] + 24:starts[5] + 80] = b"\xff" * 56
    (tmp_path / "3a-damaged.evtx").write_bytes(bytes(data))
    (tmp_path / "2a-notes.txt").write_text("not a log\n")
    return tmp_path


def _read(folder: Path, workers: int | None, **options: Any) -> tuple[Any, ...]:
    warned: list[str] = []
    stream = EventStream([folder], warn=warned.append, workers=workers, **options)
    produced = list(stream.batches())
    return (pa.Table.from_batches(produced).to_pydict(), stream.stats, stream.files, stream.unread, warned,
            len(produced))


def test_workers_read_what_one_process_reads(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "CHUNK_BYTES", 1)  # a chunk per file: every worker reads several
    single, parallel = _read(folder, 1), _read(folder, 2)
    assert parallel[:5] == single[:5]
    assert single[5] == 1 and parallel[5] == 6  # only where batches are cut differs
    assert single[1].skipped == 1 and single[1].other and single[3] == [str(folder / "2a-notes.txt")]
    monkeypatch.setattr(forked, "PARALLEL_BYTES", 1)  # by input size, on as many workers as cores
    monkeypatch.setattr(forked, "cores", lambda: 2)
    monkeypatch.setattr(threading, "active_count", lambda: 2)  # another thread: no fork by size
    assert forked.plan([folder], None)[0] is None
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert forked.plan([folder], None)[0] is not None
    assert _read(folder, None)[:5] == single[:5]


def test_a_strict_error_comes_after_the_batches_before_it(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "CHUNK_BYTES", 1)
    stream = EventStream([folder], workers=2, strict=True)
    read = []
    with pytest.raises(CollectorError, match=r"3a-damaged\.evtx#6: damaged record"):
        for batch in stream.batches():
            read.append(batch.num_rows)
    assert len(read) == 4  # the four files before the damaged one, one batch each


def test_a_consumer_that_stops_early_leaves_no_worker(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "CHUNK_BYTES", 1)
    started: list[int] = []
    fork = forked._fork

    def recorded(*args: Any) -> Any:
        child = fork(*args)
        started.append(child[0])
        return child

    monkeypatch.setattr(forked, "_fork", recorded)
    batches = EventStream([folder], workers=2).batches()
    next(batches)
    batches.close()  # type: ignore[attr-defined]  # a generator, typed as an iterator
    assert len(started) == 2
    for pid in started:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped already


def test_small_or_unsplittable_inputs_are_read_in_this_process(folder: Path, shared_dir: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = EventStream([shared_dir / "corpus" / "evtx"])
    assert forked.plan(corpus.inputs, None)[0] is None  # 13 MB: below the threshold
    assert forked.plan([folder, "-"], 2) == (None, None)  # stdin is read once
    assert forked.plan([folder / "0.evtx"], 2)[0] is None  # one file
    archive = shutil.make_archive(str(folder.parent / "logs"), "zip", folder)
    shutil.move(archive, folder / "logs.zip")
    assert forked.plan([folder], 2) == (None, None)  # zip members hold the archive open
    lines = folder.parent / "lines"
    lines.mkdir()
    for name in ("a.jsonl", "b.jsonl"):
        (lines / name).write_text('{"EventID": 1, "fields": {"Image": "x"}}\n' * 100)
    monkeypatch.setattr(forked, "PARALLEL_BYTES", 1)
    monkeypatch.setattr(forked, "cores", lambda: 2)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert forked.plan([lines], None)[0] is None  # by size counts EVTX only
    assert forked.plan([lines], 2)[0] is not None  # asked for: any plain files
    monkeypatch.setattr(os, "fork", lambda: pytest.fail("forked"))
    assert _read(folder, 1)[1].events > 0


def test_a_worker_that_dies_is_a_clear_error(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "CHUNK_BYTES", 1)
    monkeypatch.setattr(forked, "read", lambda *args: os._exit(3))  # as if killed (out of memory)
    with pytest.raises(CollectorError, match=r"reading worker \(process \d+\) ended before sending its files"):
        list(EventStream([folder], workers=2).batches())
