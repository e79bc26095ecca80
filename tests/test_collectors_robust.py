"""Damaged and hostile inputs to the collectors: skipped, warned (naming the place) and counted,
an error under ``strict``; streams read once; bounded time and memory.

The reproducers of ``shared/fuzz`` (a hostile-input run on this project) are the first cases.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import threading
import time
import warnings
from pathlib import Path

import pytest

from sysmon_rules.collectors import CollectorError, CollectorWarning, read
from sysmon_rules.collectors.jsonl import MAX_LINE
from sysmon_rules.inputfiles import walk

GOOD = json.dumps({"EventID": 1, "fields": {"Image": "C:\\a.exe"}})


def _read_all(*paths: str | Path, strict: bool = False) -> tuple[list[int], int, list[str]]:
    stream = read(*paths, strict=strict)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ids = [e.event_id for e in stream]
    return ids, stream.stats.skipped, [str(w.message) for w in caught if w.category is CollectorWarning]


@pytest.mark.parametrize("name, reason", [
    ("jsonl_winlog-not-object_attributeerror.jsonl", None),  # another provider's record: counted as other
    ("jsonl_event-not-object_attributeerror.jsonl", None),  # "event" unused when winlog.event_id is there
    ("jsonl_event_data-not-object_attributeerror.jsonl", '"winlog.event_data" must be an object'),
    ("jsonl_deep-nesting_recursionerror.jsonl", "nested too deeply"),
    ("evtx_truncated-header_oserror.evtx", "not an EVTX file, or its header is damaged"),
    ("gzip_truncated_aborted.jsonl.gz", "damaged gzip stream"),
    ("gzip_corrupt-deflate_zlib-error.jsonl.gz", "damaged gzip stream (Error -3 while decompressing data"),
    ("xmlev_unterminated-cdata_multiline-warning.xml", "CData section not finished"),
])
def test_fuzz_reproducers_are_skipped_records(shared_dir: Path, name: str, reason: str | None) -> None:
    path = shared_dir / "fuzz" / name
    _, skipped, messages = _read_all(path)
    if reason is None:
        assert skipped == 0
        return
    assert skipped == 1
    assert any(reason in m and m.startswith(str(path)) for m in messages), messages
    assert all("\n" not in m and "secret-value" not in m for m in messages)
    with pytest.raises(CollectorError, match="damaged record"):
        list(read(path, strict=True))


def test_utf16_event_xml_with_a_lone_surrogate_is_read(shared_dir: Path) -> None:
    ids, skipped, _ = _read_all(shared_dir / "fuzz" / "xmlev_utf16-lone-surrogate_unicodedecodeerror.xml")
    assert skipped == 0 and ids


def test_events_read_before_gzip_damage_are_kept(tmp_path: Path) -> None:
    data = gzip.compress(("\n".join([GOOD] * 5000) + "\n").encode())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) // 2])
    ids, skipped, messages = _read_all(cut)
    assert 0 < len(ids) < 5000 and skipped == 1
    assert messages == [f"{cut}: damaged record skipped: damaged gzip stream (Compressed file ended before the "
                        "end-of-stream marker was reached), the rest of the file is lost"]


@pytest.mark.parametrize("line, reason", [
    ('{"winlog": {"event_id": 1, "provider_name": "Microsoft-Windows-Sysmon", "event_data": "x"}}',
     '"winlog.event_data" must be an object, got str'),
    ('{"winlog": {"provider_name": "Microsoft-Windows-Sysmon"}, "event": [1]}', '"event" must be an object'),
    ('{"EventID": 1, "EventData": 3.5}', '"EventData" must be an object, got float'),
    ('{"EventID": "\u00b2", "Image": "x"}', 'no "EventID"'),
    ('{"EventID": "\u0663", "fields": {}}', '"EventID" must be an integer'),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("[1, 2]", "expected a JSON object"),
])
def test_jsonl_wrong_shapes_are_damaged_records(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text(f"{GOOD}\n{line}\n{GOOD}\n", "utf-8")
    ids, skipped, messages = _read_all(path)
    assert ids == [1, 1] and skipped == 1
    assert messages[0].startswith(f"{path}:2: damaged record skipped: ") and reason in messages[0], messages


def test_jsonl_line_over_the_cap_is_skipped_without_buffering_it(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    with path.open("wb") as out:
        out.write(GOOD.encode() + b"\n" + b'{"EventID": 1, "fields": {"Image": "')
        out.write(b"A" * (MAX_LINE + 10))
        out.write(b'"}}\n' + GOOD.encode() + b"\n")
    ids, skipped, messages = _read_all(path)
    assert ids == [1, 1] and skipped == 1
    assert messages == [f"{path}:2: damaged record skipped: line longer than 16 MiB"]


def test_unterminated_event_xml_is_linear(tmp_path: Path) -> None:
    path = tmp_path / "open.xml"
    path.write_bytes(b"".join(b"<Event>" + b"A" * (15 << 20) for _ in range(3)))
    started = time.perf_counter()
    _, skipped, _ = _read_all(path)
    # Quadratic rescanning took ~5 s a record here; linear is well under a second for all three.
    assert skipped == 3 and time.perf_counter() - started < 10


def test_stdin_is_streamed_not_slurped(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[int] = []

    class Endless(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
            chunk = (GOOD + "\n").encode() * (len(buffer) // (len(GOOD) + 1) or 1)
            chunk = chunk[: len(buffer)]
            reads.append(len(chunk))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BufferedReader(Endless())))
    stream = iter(read("-"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = [next(stream).event_id for _ in range(1000)]
    assert first == [1] * 1000 and sum(reads) < 1 << 20


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_opened_once_and_read_whole(tmp_path: Path) -> None:
    fifo = tmp_path / "events.fifo"
    os.mkfifo(fifo)
    lines = "".join(f"{GOOD}\n" for _ in range(3000))

    def writer() -> None:
        with fifo.open("w") as out:
            out.write(lines)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    ids, skipped, _ = _read_all(fifo)
    thread.join(5)
    assert ids == [1] * 3000 and skipped == 0


def test_a_deep_folder_is_walked_without_recursion(tmp_path: Path) -> None:
    chain = [tmp_path / "deep"]
    for _ in range(1200):  # rglob hit RecursionError near 1,000
        chain.append(chain[-1] / "a")
    for folder in chain:
        folder.mkdir()
    try:
        (chain[-1] / "e.jsonl").write_text(GOOD + "\n", "utf-8")
        (chain[0] / "loop").symlink_to(tmp_path)  # a link to a parent is not followed
        assert walk(chain[0]) == [chain[-1] / "e.jsonl"]
        assert _read_all(chain[0])[0] == [1]
    finally:  # bottom up: pytest's own clean-up (shutil.rmtree) recurses and would fail here
        (chain[-1] / "e.jsonl").unlink(missing_ok=True)
        (chain[0] / "loop").unlink(missing_ok=True)
        for folder in reversed(chain):
            folder.rmdir()


def test_a_log_with_no_sysmon_event_is_named(tmp_path: Path) -> None:
    path = tmp_path / "security.jsonl"
    record = {"winlog": {"event_id": 4688, "provider_name": "Microsoft-Windows-Security-Auditing",
                         "channel": "Security", "event_data": {}}}
    path.write_text(json.dumps(record) + "\n", "utf-8")
    _, _, messages = _read_all(path)
    assert messages == [f"{path}: no Sysmon events, only records of other channels: Security (1)"]


def test_a_zip_is_read_like_a_folder(tmp_path: Path, shared_dir: Path) -> None:
    import zipfile

    evtx = min((shared_dir / "corpus" / "evtx").rglob("*.evtx"), key=lambda p: p.stat().st_size)
    direct = [e.event_id for e in read(evtx)]
    archive = tmp_path / "logs.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("b/events.jsonl.gz", gzip.compress((GOOD + "\n").encode() * 2))
        out.write(evtx, "a/log.evtx")
        out.writestr("notes.txt", "not a log")
    stream = read(archive)
    assert [e.event_id for e in stream] == [*direct, 1, 1]
    assert stream.files == [(f"{archive}!a/log.evtx", "evtx"), (f"{archive}!b/events.jsonl.gz", "jsonl")]
    assert stream.unread == [f"{archive}!notes.txt"]
    broken = tmp_path / "broken.zip"
    broken.write_bytes(archive.read_bytes()[:200])
    with pytest.raises(CollectorError, match=r"broken\.zip: damaged zip archive"):
        list(read(broken))


def test_an_unreadable_file_in_a_folder_is_skipped_but_named_alone_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(GOOD + "\n", "utf-8")
    (tmp_path / "b.jsonl").symlink_to(tmp_path / "missing.jsonl")  # listed, but opening it fails
    ids, skipped, messages = _read_all(tmp_path)
    assert ids == [1] and skipped == 1
    assert messages == [f"{tmp_path / 'b.jsonl'}: damaged record skipped: cannot read: No such file or directory"]
    with pytest.raises(CollectorError, match="cannot read: No such file or directory"):
        list(read(tmp_path / "b.jsonl"))
