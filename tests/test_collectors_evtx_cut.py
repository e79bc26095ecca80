"""EVTX files cut short: what the cut took is counted as damaged, never read as a whole file.

The corpus files are cut at many offsets (inside the file header, inside the first chunk, at and
around chunk boundaries, inside later chunks); the records the whole file holds (as the ``evtx``
parser reads it) must all be accounted for: read, counted as another channel's, or damaged.
"""

from __future__ import annotations

import gzip
import random
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from sysmon_rules.collectors import CollectorError, EventStream, read
from sysmon_rules.collectors.evtxlayout import CHUNK, FILE_HEADER


def _corpus_files(shared: Path) -> list[Path]:
    """Corpus files of one chunk and of many (the header's count), a spread of sizes."""
    files = sorted((shared / "corpus" / "evtx").rglob("*.evtx"))
    by_chunks = sorted(files, key=lambda p: (_chunks(p.read_bytes()), str(p)))
    return [by_chunks[0], by_chunks[len(by_chunks) // 2], by_chunks[-2], by_chunks[-1]]


def _chunks(data: bytes) -> int:
    return int(struct.unpack_from("<H", data, 42)[0])


def _whole_records(path: Path) -> int:
    from evtx import PyEvtxParser

    return sum(1 for _ in PyEvtxParser(str(path)).records_json())


def _offsets(data: bytes, rng: random.Random) -> list[int]:
    chunks = _chunks(data)
    end = FILE_HEADER + chunks * CHUNK
    cuts = {FILE_HEADER, FILE_HEADER + 1, FILE_HEADER + 100, FILE_HEADER + 512, FILE_HEADER + CHUNK // 2,
            FILE_HEADER + CHUNK - 1, end - 1}
    for k in range(1, chunks):
        cuts.update({FILE_HEADER + k * CHUNK - 1, FILE_HEADER + k * CHUNK, FILE_HEADER + k * CHUNK + 40})
    cuts.update(rng.randrange(FILE_HEADER, end) for _ in range(8))
    return sorted(cuts)


def _counts(path: Path) -> tuple[int, int, int, list[str]]:
    messages: list[str] = []
    stream = read(path)
    stream.warn = messages.append
    events = sum(1 for _ in stream)
    return events, stream.stats.skipped, sum(stream.stats.other.values()), messages


def test_a_cut_file_accounts_for_every_record_of_the_whole(shared_dir: Path, tmp_path: Path) -> None:
    rng = random.Random(24)
    checked = 0
    for path in _corpus_files(shared_dir):
        data = path.read_bytes()
        whole = _whole_records(path)
        events, skipped, other, _ = _counts(path)
        assert (events + other, skipped) == (whole, 0)
        for cut in _offsets(data, rng):
            cut_file = tmp_path / f"cut{cut}.evtx"
            cut_file.write_bytes(data[:cut])
            events, skipped, other, messages = _counts(cut_file)
            assert events + other + skipped == whole, (path.name, cut, messages)
            if events + other < whole:
                assert skipped > 0 and all(f"the file ends at byte {cut:,}" in m for m in messages), messages
            checked += 1
    assert checked > 40


def test_cut_in_the_first_chunk_reads_nothing_and_says_so(shared_dir: Path, tmp_path: Path) -> None:
    path = _corpus_files(shared_dir)[-1]
    whole = _whole_records(path)
    cut = tmp_path / "cut.evtx"
    cut.write_bytes(path.read_bytes()[:FILE_HEADER + 3000])
    events, skipped, other, messages = _counts(cut)
    assert (events, other, skipped) == (0, 0, whole)
    assert messages[0].startswith(f"{cut}: ") and "inside chunk 1 of" in messages[0]


def test_zeroed_spare_chunks_past_the_header_count_are_not_a_cut(shared_dir: Path, tmp_path: Path) -> None:
    # wevtutil writes unused chunks past the header's count; cutting them off loses nothing
    files = sorted((shared_dir / "corpus" / "evtx").rglob("*.evtx"))
    path = next(p for p in files if p.stat().st_size > FILE_HEADER + _chunks(p.read_bytes()) * CHUNK)
    data = path.read_bytes()
    chunks = _chunks(data)
    cut = tmp_path / "spare.evtx"
    cut.write_bytes(data[:FILE_HEADER + chunks * CHUNK + 100])
    assert _counts(cut)[1] == 0


def test_a_cut_gzip_copy_counts_the_same(shared_dir: Path, tmp_path: Path) -> None:
    path = _corpus_files(shared_dir)[-1]
    data = path.read_bytes()[:FILE_HEADER + 2 * CHUNK + 999]
    plain, packed = tmp_path / "cut.evtx", tmp_path / "cut.evtx.gz"
    plain.write_bytes(data)
    packed.write_bytes(gzip.compress(data))
    assert _counts(packed)[:3] == _counts(plain)[:3]
    assert _counts(plain)[1] > 0
    for path in (plain, packed):  # the batch path (EVTX rows gathered into columns) counts the same
        stream = EventStream([path], workers=1)
        stream.warn = [].append
        rows = sum(batch.num_rows for batch in stream.batches())
        assert (rows, stream.stats.skipped) == _counts(plain)[:2]


def test_a_cut_file_is_an_error_under_strict(shared_dir: Path, tmp_path: Path, project_root: Path) -> None:
    path = _corpus_files(shared_dir)[-1]
    cut = tmp_path / "cut.evtx"
    cut.write_bytes(path.read_bytes()[:FILE_HEADER + CHUNK + 10])
    with pytest.raises(CollectorError, match=r"cut\.evtx: \d+ damaged records: the file ends at byte 69,642"):
        list(read(cut, strict=True))
    config = project_root / "examples" / "sysmonconfig.xml"
    cli = [sys.executable, "-c", "from sysmon_rules.cli import run; run()", "evaluate", str(config), str(cut),
           "--format", "summary"]
    lenient = subprocess.run(cli, capture_output=True, text=True, check=False)
    strict = subprocess.run([*cli, "--strict"], capture_output=True, text=True, check=False)
    assert lenient.returncode == 0 and re.search(r"skipped \(damaged\): [1-9]", lenient.stdout)
    assert "the file ends at byte 69,642" in lenient.stderr
    assert strict.returncode not in (0, 70) and strict.stderr.count("\n") == 1
    assert "the file ends at byte 69,642" in strict.stderr
