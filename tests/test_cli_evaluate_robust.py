"""`sysmon-rules evaluate` at its edges: Ctrl-C, concise and full explanations, locations in JSON
lines, --sysmon-compatible, files it leaves out or that hold no Sysmon event."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from click.testing import CliRunner

from sysmon_rules.cli import main

CLI = [sys.executable, "-c", "from sysmon_rules.cli import run; run()"]
EVENT = json.dumps({"EventID": 1, "fields": {"Image": "C:\\Windows\\System32\\cmd.exe"}}) + "\n"


def test_ctrl_c_exits_130_after_the_partial_summary(project_root: Path) -> None:
    """Interrupted while reading an endless stream: exit 130, no traceback, and the count it reports
    is exactly the decisions written (none counted but lost, none written but uncounted)."""
    config = project_root / "examples" / "sysmonconfig.xml"
    # A shell's background job (nohup ... &) ignores SIGINT, and a child inherits that: restore it.
    with subprocess.Popen([*CLI, "evaluate", str(config), "-", "--format", "jsonl"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        rows: list[bytes] = []
        decided = threading.Event()

        def read_rows() -> None:
            assert proc.stdout is not None
            for row in proc.stdout:
                rows.append(row)
                decided.set()

        reader = threading.Thread(target=read_rows, daemon=True)
        reader.start()
        started = time.monotonic()
        # an endless stream, as from a live log, until some batches were decided (however loaded the machine)
        while not decided.is_set() and time.monotonic() - started < 300:
            proc.stdin.write(EVENT.encode() * 1000)
            proc.stdin.flush()
        assert decided.is_set(), "no decision within 300 s"
        proc.send_signal(signal.SIGINT)
        try:
            for _ in range(100):  # the stream goes on after the interrupt
                proc.stdin.write(EVENT.encode() * 1000)
            proc.stdin.close()
        except BrokenPipeError:
            pass
        proc.wait(timeout=120)
        reader.join(timeout=60)
        err = proc.stderr.read() if proc.stderr is not None else b""
    assert proc.returncode == 130, err
    assert b"Traceback" not in err and b"Exception ignored" not in err, err
    counted = re.search(rb"warning: interrupted after ([\d,]+) events", err)
    assert counted is not None, err
    assert int(counted.group(1).replace(b",", b"")) == len(rows) > 0
    assert all(json.loads(row)["decision"] == "include" for row in rows)


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
    result = CliRunner().invoke(main, ["evaluate", str(config), str(logs), "--format", "json"])
    assert result.exit_code == 0
    assert f"warning: {logs / 'notes.txt'}: not recognised by any collector, left out" in result.stderr
    assert (f"warning: {logs / 'security.jsonl'}: no Sysmon events, only records of other channels: Security (1)"
            in result.stderr)
