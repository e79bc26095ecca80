"""The console script (cli.console) ends without the interpreter's teardown: the same output,
stderr and exit code as run() ending the interpreter's way, every byte flushed, the exit
handlers run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _one(entry: str, args: list[str], cwd: Path, prelude: str = "") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-c", f"{prelude}from sysmon_rules.cli import {entry}; {entry}()", *args],
                          capture_output=True, cwd=cwd, check=False)


def _both(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[bytes], ...]:
    return _one("run", args, cwd), _one("console", args, cwd)


@pytest.mark.parametrize("args", [
    ["evaluate", str(EXAMPLES / "sysmonconfig.xml"), str(EXAMPLES / "events.jsonl"), "--format", "jsonl"],
    ["lint", str(EXAMPLES / "lint-mistakes.xml")],  # findings: exit 1
    ["validate", "no-such-file.xml"],  # unusable input: exit 2
    ["evaluate", str(EXAMPLES / "sysmonconfig.xml"), "--format", "jsonl"],  # usage: exit 2
])
def test_console_says_and_exits_as_run_does(args: list[str], tmp_path: Path) -> None:
    run, console = _both(args, tmp_path)
    assert (console.returncode, console.stdout, console.stderr) == (run.returncode, run.stdout, run.stderr)
    assert run.stdout or run.stderr


def test_a_large_output_to_a_pipe_is_written_whole(tmp_path: Path) -> None:
    events = tmp_path / "many.jsonl"
    line = (EXAMPLES / "events.jsonl").read_text(encoding="utf-8").splitlines()[0]
    events.write_text((line + "\n") * 20_000, encoding="utf-8")  # megabytes of output, past any pipe buffer
    run, console = _both(["evaluate", str(EXAMPLES / "sysmonconfig.xml"), str(events), "--format", "jsonl"], tmp_path)
    assert console.returncode == run.returncode == 0
    assert console.stdout == run.stdout and len(console.stdout.splitlines()) == 20_000


def test_the_exit_handlers_run(tmp_path: Path) -> None:
    mark = tmp_path / "handled"
    prelude = f"import atexit, pathlib; atexit.register(pathlib.Path({str(mark)!r}).touch); "
    console = _one("console", ["--help"], tmp_path, prelude)
    assert console.returncode == 0 and b"Commands:" in console.stdout
    assert mark.exists()
