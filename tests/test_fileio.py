"""The one atomic write (sysmon_rules.fileio): modes, symlinks, devices, stdout, failures, SIGKILL."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from sysmon_rules import FileAccessError, SysmonRulesError
from sysmon_rules.cli import main
from sysmon_rules.fileio import read_input, write_output

CONFIG = (b'<Sysmon schemaversion="4.90"><EventFiltering><ProcessCreate onmatch="include">'
          b'<Image condition="end with">\\cmd.exe</Image></ProcessCreate></EventFiltering></Sysmon>')


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_0666_under_the_umask(tmp_path: Path, umask: None, mask: int) -> None:
    os.umask(mask)
    target = tmp_path / "new.bin"
    write_output(target, b"data")
    assert target.read_bytes() == b"data"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask


def test_an_existing_file_keeps_its_mode(tmp_path: Path, umask: None) -> None:
    target = tmp_path / "old.bin"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_output(target, "new text")
    assert target.read_bytes() == b"new text"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_symlink_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "real.xml"
    real.write_bytes(b"old")
    link = tmp_path / "link.xml"
    link.symlink_to(real)
    write_output(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.xml", "real.xml"]


def test_a_character_device_is_written_not_replaced() -> None:
    before = os.stat("/dev/null")
    write_output("/dev/null", b"discarded")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_output(fifo, [b"one ", "two"])
    reader.join(5)
    assert received == [b"one two"] and stat.S_ISFIFO(fifo.stat().st_mode)


def test_dash_is_standard_output(capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_output("-", b"to stdout\n")
    assert capsysbinary.readouterr().out == b"to stdout\n"
    assert list(tmp_path.iterdir()) == []


def test_a_failing_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_bytes(b"old")

    def chunks() -> Iterator[bytes]:
        yield b"half of it"
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_output(target, chunks())
    assert target.read_bytes() == b"old" and list(tmp_path.iterdir()) == [target]


def test_the_data_is_fsynced_before_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda *a, **k: (calls.append("replace"), real_replace(*a, **k))[1])
    write_output(tmp_path / "x", b"x")
    assert calls[:2] == ["fsync", "replace"]


def test_without_unnamed_files_the_temp_file_is_named_and_cleaned_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    target = tmp_path / "out.bin"
    write_output(target, b"x" * 10)
    assert target.read_bytes() == b"x" * 10 and list(tmp_path.iterdir()) == [target]


def test_a_killed_writers_temp_file_is_removed_by_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".out.bin.sysmon-rules-{dead.stdout.strip()}.tmp"
    live = tmp_path / f".out.bin.sysmon-rules-{os.getppid()}.tmp"  # a running process may still use it
    other = tmp_path / ".other.sysmon-rules-1.tmp"
    for path in (stale, live, other):
        path.write_bytes(b"partial")
    write_output(target, b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, live.name, other.name])


@pytest.mark.parametrize("where", ["missing/out.bin", "a-folder"])
def test_an_unwritable_target_is_one_file_access_error(tmp_path: Path, where: str) -> None:
    (tmp_path / "a-folder").mkdir()
    with pytest.raises(FileAccessError) as caught:
        write_output(tmp_path / where, b"x")
    assert isinstance(caught.value, SysmonRulesError)
    assert str(caught.value).startswith(f"{tmp_path / where}: cannot write the file: ")
    assert "\n" not in str(caught.value)


def test_an_unreadable_input_is_one_file_access_error(tmp_path: Path) -> None:
    with pytest.raises(FileAccessError, match="cannot read the file: No such file or directory"):
        read_input(tmp_path / "nope")
    assert read_input("/dev/null") == b""


def test_lint_into_a_missing_folder_is_a_one_line_error(tmp_path: Path) -> None:
    config = tmp_path / "c.xml"
    config.write_bytes(CONFIG)
    out = tmp_path / "missing" / "report.sarif"
    result = CliRunner().invoke(main, ["lint", str(config), "--format", "sarif", "-o", str(out)])
    assert result.exit_code == 2
    assert result.output == f"{out}: error[file-access]: cannot write the file: No such file or directory\n"


def test_compile_to_dash_and_to_dev_null(tmp_path: Path) -> None:
    config = tmp_path / "c.xml"
    config.write_bytes(CONFIG)
    to_file = tmp_path / "c.bin"
    assert CliRunner().invoke(main, ["compile", str(config), "-o", str(to_file)]).exit_code == 0
    to_stdout = CliRunner().invoke(main, ["compile", str(config), "-o", "-"])
    assert to_stdout.exit_code == 0 and to_stdout.stdout_bytes == to_file.read_bytes()
    assert CliRunner().invoke(main, ["compile", str(config), "-o", "/dev/null"]).exit_code == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


# The child compiles normally but stops inside the first fsync (the temporary file is written,
# not yet renamed), says so through a marker file, and waits to be killed.
_SLOW_CHILD = """
import os, sys, time
if sys.argv[1] == "named":
    del os.O_TMPFILE
real_fsync = os.fsync
def stuck_fsync(fd):
    real_fsync(fd)
    open(sys.argv[2], "w").close()
    time.sleep(60)
os.fsync = stuck_fsync
from sysmon_rules.cli import run
run(["compile", sys.argv[3], "-o", sys.argv[4]])
"""


@pytest.mark.parametrize("temp_kind", ["unnamed", "named"])
def test_sigkill_during_compile_keeps_the_old_file_and_leaves_no_temp_file(tmp_path: Path, temp_kind: str) -> None:
    if temp_kind == "unnamed" and not hasattr(os, "O_TMPFILE"):
        pytest.skip("no O_TMPFILE on this system")
    work = tmp_path / "out"
    work.mkdir()
    config, marker, target = tmp_path / "c.xml", tmp_path / "in-fsync", work / "rules.bin"
    config.write_bytes(CONFIG)
    target.write_bytes(b"the old blob")
    child = subprocess.Popen([sys.executable, "-c", _SLOW_CHILD, temp_kind, str(marker), str(config), str(target)])
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert child.poll() is None and time.monotonic() < deadline, "the child never reached fsync"
            time.sleep(0.02)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert target.read_bytes() == b"the old blob"
    left = sorted(p.name for p in work.iterdir())
    if temp_kind == "unnamed":  # O_TMPFILE: the half-written file never had a name
        assert left == ["rules.bin"]
    else:  # a named temporary file survives the kill; the next write to the target removes it
        assert len(left) == 2 and left[0].startswith(".rules.bin.sysmon-rules-")
        write_output(target, b"next")
        assert sorted(p.name for p in work.iterdir()) == ["rules.bin"]


def test_a_missing_test_file_is_a_file_access_error(tmp_path: Path) -> None:
    unreadable = tmp_path / "tests"
    unreadable.mkdir()
    (unreadable / "nope.sysmon-test.yaml").symlink_to(tmp_path / "gone")  # found in a folder, then not there
    result = CliRunner().invoke(main, ["test", str(unreadable)])
    assert result.exit_code == 1
    assert f"ERROR {unreadable / 'nope.sysmon-test.yaml'}: cannot read the file: No such file" in result.output
