"""Hostile inputs where a rule blob is expected: bounded reads, damaged .reg text, and inputs that
are something else named as what they are."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import sysmon_rules as sr
from sysmon_rules.blob.textforms import read_blob
from sysmon_rules.errors import BlobFormatError

CLI = [sys.executable, "-c", "from sysmon_rules.cli import run; run()"]
STRICT = {"PYTHONIOENCODING": "utf-8:strict", "PATH": "/usr/bin:/bin"}


def _cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CLI, *args], capture_output=True, env=STRICT, timeout=120, check=False)


def test_utf16_bom_of_odd_length_is_a_blob_format_error(shared_dir: Path) -> None:
    data = (shared_dir / "fuzz" / "blob_utf16-bom-odd-length_unicodedecodeerror.bin").read_bytes()
    with pytest.raises(BlobFormatError, match=r"not valid UTF-16 \(truncated data\)"):
        read_blob(data)
    with pytest.raises(BlobFormatError, match="not valid UTF-16"):
        read_blob(b"\xff\xfeA")


def test_reg_value_is_read_across_continuation_lines(project_root: Path) -> None:
    blob = sr.to_blob(sr.load(project_root / "examples" / "sysmonconfig.xml"))
    digits = blob.hex()
    # regedit cuts at commas; a hand-edited export may cut a byte in two: both read back whole.
    lines = [",".join(digits[i:i + 2] for i in range(start, min(start + 50, len(digits)), 2))
             for start in range(0, len(digits), 50)]
    reg = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY]\r\n\"Rules\"=hex:" + ",\\\r\n  ".join(lines) + "\r\n"
    assert read_blob(reg.encode("utf-16")) == blob
    cut = "Windows Registry Editor Version 5.00\n\n[HKEY]\n\"Rules\"=hex:" + digits[:7] + "\\\n  " + digits[7:] + "\n"
    assert read_blob(cut.encode()) == blob
    with pytest.raises(BlobFormatError, match="not hex"):
        read_blob(b'"Rules"=hex:0g,00\n')


@pytest.mark.parametrize("source, message", [
    ("/dev/zero", "more than 64 MiB: too large to be an XML config, a rule blob"),
    ("examples/sysmonconfig.xml", "this is an XML config, not a rule blob"),
])
def test_decompile_and_dump_refuse_what_is_not_a_blob(project_root: Path, source: str, message: str) -> None:
    path = source if source.startswith("/") else str(project_root / source)
    for command in ("decompile", "dump"):
        done = _cli(command, path)
        assert done.returncode == 2
        assert done.stderr.decode() == f"{path}: error: {message}\n" or message in done.stderr.decode()
        assert done.stderr.count(b"\n") == 1


def test_an_evtx_log_is_named_as_one(shared_dir: Path) -> None:
    log = next((shared_dir / "corpus" / "evtx").glob("*.evtx"))
    done = _cli("decompile", str(log))
    assert done.returncode == 2 and b"this is an EVTX event log" in done.stderr


def test_a_sparse_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as out:
        out.truncate(1 << 30)
    code = ("import sys; from sysmon_rules.cli import run; sys.argv[1:] = sys.argv[1:]\n"
            "try:\n    run()\nexcept SystemExit as e:\n"
            "    peak = next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
            "    print(peak, e.code, file=sys.stderr)")  # the child's own peak: ru_maxrss carries pytest's
    for args in (["decompile", str(big)], ["evaluate", str(big), str(big)]):
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, timeout=120, check=False)
        rss_kb, exit_code = done.stderr.decode().splitlines()[-1].split()
        assert exit_code == "2" and int(rss_kb) < 400_000, done.stderr  # it was 1.08 GB


def test_lone_surrogates_in_a_blob_never_crash_output(shared_dir: Path) -> None:
    fuzz = shared_dir / "fuzz"
    rule_name = fuzz / "blob_lone-surrogate-rulename_stdout-unicodeencodeerror.bin"
    for fmt in ("jsonl", "json", "summary"):
        done = _cli("evaluate", str(rule_name), str(fuzz / "events_powershell.jsonl"), "--format", fmt)
        assert done.returncode == 0, done.stderr
        assert b"\\ud800" in done.stdout
    done = _cli("dump", str(fuzz / "blob_lone-surrogate-value_dump-unicodeencodeerror.bin"))
    assert done.returncode == 0 and b"\\ud800" in done.stdout
