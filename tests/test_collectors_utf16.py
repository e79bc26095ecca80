"""JSON lines as Windows writes them: PowerShell 5's `>` and `Out-File` write UTF-16LE with a BOM
(CRLF line ends), other tools UTF-16 without one or big-endian. They read exactly as UTF-8 does."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from sysmon_rules.collectors import read

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "examples" / "events.jsonl"


def _read(path: Path) -> list[tuple[int, dict[str, str], int | None]]:
    stream = read(str(path))
    return [(e.event_id, dict(e.fields), e.origin.line if e.origin else None) for e in stream]


def _windows_text(text: str) -> str:
    return text.replace("\n", "\r\n")


@pytest.mark.parametrize(("encoding", "bom"), [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
                                               ("utf-16-le", b"")])
def test_utf16_json_lines_read_as_utf8(tmp_path: Path, encoding: str, bom: bytes) -> None:
    text = EVENTS.read_text("utf-8")
    expected = _read(EVENTS)
    assert len(expected) > 3
    plain = tmp_path / "events.jsonl"
    plain.write_bytes(bom + _windows_text(text).encode(encoding))
    assert _read(plain) == expected
    packed = tmp_path / "events.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert _read(packed) == expected
    # the batch path (Arrow columns) agrees with the event path
    rows = sum(b.num_rows for b in read(str(plain)).batches())
    assert rows == len(expected)


def test_utf16_on_stdin_is_decided_as_utf8(tmp_path: Path) -> None:
    config = ROOT / "examples" / "sysmonconfig.xml"
    cli = [sys.executable, "-c", "from sysmon_rules.cli import run; run()", "evaluate", str(config), "-",
           "--format", "jsonl"]
    utf8 = subprocess.run(cli, input=EVENTS.read_bytes(), capture_output=True, check=True)
    utf16 = subprocess.run(cli, input=b"\xff\xfe" + _windows_text(EVENTS.read_text("utf-8")).encode("utf-16-le"),
                           capture_output=True, check=True)
    assert utf16.stdout == utf8.stdout and utf16.stderr == b""


def test_a_broken_utf16_unit_damages_its_record_only(tmp_path: Path) -> None:
    lines = EVENTS.read_text("utf-8").splitlines(keepends=True)
    data = bytearray(b"\xff\xfe")
    for number, line in enumerate(lines):
        encoded = line.encode("utf-16-le")
        if number == 1:  # a lone high surrogate inside the second record's text
            encoded = encoded[:40] + b"\x00\xd8" + encoded[40:]
        data += encoded
    path = tmp_path / "broken.jsonl"
    path.write_bytes(bytes(data))
    messages: list[str] = []
    stream = read(str(path))
    stream.warn = messages.append
    events = list(stream)
    assert len(events) == len(lines) - 1 and stream.stats.skipped == 1
    assert messages and messages[0].startswith(f"{path}:2: damaged record skipped")
