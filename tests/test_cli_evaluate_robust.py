"""`sysmon-rules evaluate` at its edges: Ctrl-C, concise and full explanations, locations in JSON
lines, --sysmon-compatible, files it leaves out or that hold no Sysmon event."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from sysmon_rules.cli import main

CLI = [sys.executable, "-c", "from sysmon_rules.cli import run; run()"]
EVENT = json.dumps({"EventID": 1, "fields": {"Image": "C:\\Windows\\System32\\cmd.exe"}}) + "\n"


def test_ctrl_c_exits_130_after_the_partial_summary(project_root: Path, tmp_path: Path) -> None:
    """Interrupted while reading an endless stream: exit 130, no traceback, and the count it reports
    is exactly the decisions written, whole lines only (none counted but lost, none written but uncounted)."""
    config = project_root / "examples" / "sysmonconfig.xml"
    written = tmp_path / "decisions.jsonl"
    with written.open("wb") as out, subprocess.Popen(
            [*CLI, "evaluate", str(config), "-", "--format", "jsonl"], stdin=subprocess.PIPE, stdout=out,
            stderr=subprocess.PIPE,
            # A shell's background job (nohup ... &) ignores SIGINT, and a child inherits that: restore it.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) as proc:
        assert proc.stdin is not None and proc.stderr is not None
        started = time.monotonic()
        try:
            # an endless stream, as from a live log, until decisions come out (however loaded the machine)
            while written.stat().st_size == 0 and time.monotonic() - started < 300:
                proc.stdin.write(EVENT.encode() * 1000)
                proc.stdin.flush()
            proc.send_signal(signal.SIGINT)
            for _ in range(100):  # the stream goes on after the interrupt
                proc.stdin.write(EVENT.encode() * 1000)
            proc.stdin.close()
        except BrokenPipeError:  # it stopped reading: the interrupt was taken
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()  # what is still buffered cannot go anywhere
        proc.wait(timeout=120)
        err = proc.stderr.read()
    assert proc.returncode == 130, err
    assert b"Traceback" not in err and b"Exception ignored" not in err and b"Fatal" not in err, err
    counted = re.search(rb"warning: interrupted after ([\d,]+) events", err)
    assert counted is not None, err
    rows = written.read_bytes()
    assert rows.endswith(b"\n")
    assert int(counted.group(1).replace(b",", b"")) == rows.count(b"\n") > 0
    assert all(json.loads(row)["decision"] == "include" for row in rows.splitlines())


def _config(tmp_path: Path, project_root: Path) -> Path:
    config = tmp_path / "c.xml"
    config.write_bytes((project_root / "examples" / "sysmonconfig.xml").read_bytes())
    return config


def test_explain_is_concise_and_full_on_request(tmp_path: Path, project_root: Path) -> None:
    config = _config(tmp_path, project_root)
    events = tmp_path / "e.jsonl"
    events.write_text(EVENT, "utf-8")
    short = CliRunner().invoke(main, ["evaluate", str(config), str(events), "--explain"])
    full = CliRunner().invoke(main, ["evaluate", str(config), str(events), "--explain=full"])
    assert short.exit_code == 0 and full.exit_code == 0
    explanation = short.stdout.split("events read:")[0].splitlines()
    assert explanation[1].startswith("event 1: include (match), RuleName='technique_id=T1059.003")
    assert explanation[2].startswith(f"  decided by set 0 (onmatch=include, or) @ {config}:7:")
    assert "Image end with '\\\\cmd.exe'" in explanation[3] and f"match @ {config}:9:" in explanation[3]
    assert len(explanation) == 4
    assert len(full.stdout.split("events read:")[0].splitlines()) > len(explanation)


def test_json_lines_name_the_deciding_set_and_with_explain_the_filter(tmp_path: Path, project_root: Path) -> None:
    config = _config(tmp_path, project_root)
    events = tmp_path / "e.jsonl"
    events.write_text(EVENT + json.dumps({"EventID": 1, "fields": {"Image": "C:\\x\\notepad.exe"}}) + "\n", "utf-8")
    plain = CliRunner().invoke(main, ["evaluate", str(config), str(events), "--format", "jsonl"])
    rows = [json.loads(line) for line in plain.stdout.splitlines()]
    assert rows[0]["rule_set"] == f"{config}:7:7" and "filter" not in rows[0]
    assert rows[1]["rule_set"] is None  # no set matched: nothing decided it
    explained = CliRunner().invoke(main, ["evaluate", str(config), str(events), "--format", "jsonl", "--explain"])
    row = json.loads(explained.stdout.splitlines()[0])
    assert row["filter"] == f"{config}:9:9" and row["explanation"].count("\n") == 2


def test_sysmon_compatible_loads_what_sysmon_loads(tmp_path: Path) -> None:
    config = tmp_path / "c.xml"
    config.write_text('<Sysmon schemaversion="4.90"><EventFiltering><RuleGroup groupRelation="or"><ProcessCreate>'
                      '<Image condition="end with">cmd.exe</Image></ProcessCreate></RuleGroup></EventFiltering>'
                      "</Sysmon>", "utf-8")
    events = tmp_path / "e.jsonl"
    events.write_text(EVENT, "utf-8")
    strict = CliRunner().invoke(main, ["evaluate", str(config), str(events), "--format", "json"])
    assert strict.exit_code == 2 and "missing-onmatch" in strict.stderr
    loose = CliRunner().invoke(main, ["evaluate", str(config), str(events), "--format", "json", "--sysmon-compatible"])
    assert loose.exit_code == 0, loose.output
    assert json.loads(loose.stdout)["events"] == 1


def test_left_out_and_non_sysmon_files_are_named(tmp_path: Path, project_root: Path) -> None:
    config = _config(tmp_path, project_root)
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "notes.txt").write_text("not a log", "utf-8")
    (logs / "security.jsonl").write_text(json.dumps({"winlog": {
        "event_id": 4688, "provider_name": "Microsoft-Windows-Security-Auditing", "channel": "Security"}}) + "\n",
        "utf-8")
    alone = subprocess.run([*CLI, "evaluate", str(config), str(logs), "--format", "json"], capture_output=True,
                           text=True, check=False)
    # nothing checked is never an all-clear: the wrong log is an error that says what was found
    assert alone.returncode == 2 and alone.stdout == ""
    assert alone.stderr.endswith(f"{logs}: error[no-input]: no Sysmon event read (1 record(s) of other channels: "
                                 "Security (1))\n")
    (logs / "sysmon.jsonl").write_text(EVENT, "utf-8")
    result = CliRunner().invoke(main, ["evaluate", str(config), str(logs), "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["events"] == 1
    assert f"warning: {logs / 'notes.txt'}: not recognised by any collector, left out" in result.stderr
    assert (f"warning: {logs / 'security.jsonl'}: no Sysmon events, only records of other channels: Security (1)"
            in result.stderr)


def test_logs_without_a_sysmon_event_are_an_error_in_every_command(tmp_path: Path, project_root: Path) -> None:
    config = _config(tmp_path, project_root)
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text('{"EventID": 1, "fields": {"Image": "x"\n', "utf-8")
    sigma = str(project_root / "examples" / "tune" / "sigma")
    runs = {
        "evaluate": ["evaluate", str(config), str(damaged)],
        "tune": ["tune", str(config), "--events", str(damaged), "--budget", "10"],
        "report": ["report", str(config), "--events", str(damaged), "-o", str(tmp_path / "r.html")],
        "diff": ["diff", str(config), str(project_root / "examples" / "lint-mistakes.xml"), "--events", str(damaged)],
        "coverage": ["coverage", str(config), "--sigma", sigma, "--events", str(damaged)],
    }
    for name, args in runs.items():
        done = subprocess.run([*CLI, *args], capture_output=True, text=True, check=False)
        assert done.returncode == 2, (name, done.stderr)
        assert done.stderr.splitlines()[-1] == (f"{damaged}: error[no-input]: no Sysmon event read "
                                                "(1 damaged record(s) skipped)"), name
        assert "Traceback" not in done.stderr and "CollectorWarning" not in done.stderr, name
    assert not (tmp_path / "r.html").exists()
